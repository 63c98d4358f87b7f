// wrk (Debian: apt-get install wrk) as the load generator: a C program on one thread, so the
// machine's two cores go to the servers being measured rather than to the client. Each case's
// requests (1,000 variants, k0..k999, cycled) are formatted once in the script's init(), and the
// done() hook prints the counts and percentiles as one JSON line.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** wrk's version line, or null when it is not installed. */
export function wrkVersion() {
  const found = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  const line = `${found.stdout ?? ""}`.split("\n")[0];
  return found.error || !line.startsWith("wrk ") ? null : line.split(" [")[0];
}

/** A JavaScript string as a Lua string literal. */
const lua = (text) =>
  `"${String(text)
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")}"`;

/** The script: `requests` pre-formatted, cycled by request(), the results printed by done(). */
export function wrkScript(requests) {
  const formatted = requests.map((r) => {
    const headers = Object.entries(r.headers ?? {})
      .map(([name, value]) => `[${lua(name)}] = ${lua(value)}`)
      .join(", ");
    return `  add(wrk.format(${lua(r.method)}, ${lua(r.path)}, {${headers}}, ${r.body === undefined ? "nil" : lua(r.body)}))`;
  });
  return `local requests = {}
local function add(r) requests[#requests + 1] = r end
init = function(args)
${formatted.join("\n")}
end
local n = 0
request = function()
  n = n + 1
  return requests[(n % #requests) + 1]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format('WRK {"requests":%d,"duration":%d,"p50":%d,"p99":%d,"status":%d,"socket":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

/**
 * `connections` connections on one wrk thread for `seconds` (wrk counts whole seconds: at least
 * 1), cycling through makeRequest(0..variants-1). Latencies in ms; errors: answers of 400 and up
 * and socket errors.
 */
export async function wrkLoad(base, connections, seconds, makeRequest, variants = 1000) {
  const dir = mkdtempSync(join(tmpdir(), "cfg-bench-wrk-"));
  try {
    const script = join(dir, "requests.lua");
    writeFileSync(script, wrkScript(Array.from({ length: variants }, (_, n) => makeRequest(n))));
    const duration = Math.max(1, Math.round(seconds));
    const output = await new Promise((done, fail) => {
      const child = spawn(
        "wrk",
        ["-t1", `-c${connections}`, `-d${duration}s`, "--timeout", "10s", "-s", script, base],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let text = "";
      child.stdout.on("data", (chunk) => (text += chunk));
      child.stderr.on("data", (chunk) => (text += chunk));
      child.on("error", fail);
      child.on("exit", (code) =>
        code === 0 ? done(text) : fail(new Error(`wrk exited with ${code}: ${text}`)),
      );
    });
    const line = output.split("\n").find((l) => l.startsWith("WRK "));
    if (!line) throw new Error(`wrk printed no result: ${output.slice(0, 500)}`);
    const r = JSON.parse(line.slice(4));
    return {
      seconds: r.duration / 1e6,
      rps: r.requests / (r.duration / 1e6),
      p50: r.p50 / 1000,
      p99: r.p99 / 1000,
      errors: r.status + r.socket,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
