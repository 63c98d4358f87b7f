// Push benchmark: a generated git repository of N configs of about 1 KiB each, pushed to a
// fresh cfgd with the real `cfg` binary; then a no-change diff and a one-key change.
//   node scripts/bench.mjs push [--keys 10000]
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({ options: { keys: { type: "string", default: "10000" } } });
const keys = Number(values.keys);
if (!Number.isInteger(keys) || keys < 1) throw new Error("--keys must be a positive integer");

const freePort = () =>
  new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), "cfg-bench-push-"));
const repo = join(work, "repo");
const dataDir = join(work, "data");
const services = ["api", "web", "worker", "search", "billing", "auth", "media", "mail"];
function config(i, replicas = 2) {
  return {
    image: `registry.example.com/team-${i % 40}/${services[i % services.length]}:1.${i % 17}.${i % 5}`,
    port: 8000 + (i % 1000),
    replicas,
    logLevel: ["debug", "info", "warn"][i % 3],
    resources: { cpu: 0.5 + (i % 4) / 2, memoryMiB: 256 * (1 + (i % 8)) },
    env: Object.fromEntries(
      Array.from({ length: 12 }, (_, j) => [`SETTING_${j}`, `value-${i}-${j}-${"z".repeat(20)}`]),
    ),
    healthcheck: { path: "/healthz", intervalSeconds: 10 },
  };
}
mkdirSync(repo, { recursive: true });
writeFileSync(
  join(repo, "cfg.json"),
  JSON.stringify({ targets: { bench: { project: "bench", dir: "configs" } }, schemas: [] }, null, 2),
);
for (let i = 0; i < keys; i++) {
  const dir = join(repo, "configs", `team-${i % 40}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `svc-${i}.json`), `${JSON.stringify(config(i), null, 2)}\n`);
}
const git = (...args) => execFileSync("git", args, { cwd: repo, stdio: "pipe" });
git("init", "-q", "-b", "main");
git("config", "user.name", "Bench");
git("config", "user.email", "bench@example.com");
git("add", ".");
git("commit", "-qm", "Generated configs");
const bytes = execFileSync("du", ["-sb", join(repo, "configs")])
  .toString()
  .split("\t")[0];

const port = await freePort();
const server = `http://127.0.0.1:${port}`;
const daemon = spawn(
  process.execPath,
  [
    // As in the cluster suites: CFG_BENCH_NODE_ARGS passes node options to cfgd (profiles).
    ...(process.env.CFG_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean),
    // and CFG_BENCH_CFGD another build's cfgd.js.
    process.env.CFG_BENCH_CFGD ?? join(root, "packages/daemon/bin/cfgd.js"),
    ...["--listen", `127.0.0.1:${port}`, "--data-dir", dataDir],
  ],
  {
    stdio: "ignore",
  },
);
try {
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error("cfgd did not start");
    try {
      if ((await fetch(`${server}/readyz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  const env = {
    ...process.env,
    CFG_SERVER: server,
    CFG_TOKEN: readFileSync(join(dataDir, "admin-token"), "utf8").trim(),
    NO_COLOR: "1",
  };
  const cfg = (...args) => {
    const started = performance.now();
    // CFG_BENCH_CLI_ARGS: node options for cfg, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const node = (process.env.CFG_BENCH_CLI_ARGS ?? "").split(" ").filter(Boolean);
    execFileSync(process.execPath, [...node, join(root, "packages/cli/bin/cfg.js"), ...args], {
      cwd: repo,
      env,
      stdio: "pipe",
      maxBuffer: 1 << 30,
    });
    return (performance.now() - started) / 1000;
  };
  cfg("project", "create", "bench");
  const rows = [];
  rows.push(["first push (validate, plan, push)", cfg("push", "--yes")]);
  rows.push(["no-change diff", cfg("diff")]);
  writeFileSync(join(repo, "configs", "team-0", "svc-0.json"), `${JSON.stringify(config(0, 3), null, 2)}\n`);
  git("commit", "-qam", "Scale svc-0");
  rows.push(["one-key change: diff", cfg("diff")]);
  rows.push(["one-key change: push", cfg("push", "--yes")]);
  console.log(
    `push benchmark: ${keys} configs, ${(Number(bytes) / 1024 / 1024).toFixed(1)} MiB of JSON, real cfg against one cfgd (fsync on)`,
  );
  console.log(`${"operation".padEnd(36)}seconds`);
  for (const [name, seconds] of rows) console.log(`${name.padEnd(36)}${seconds.toFixed(2)}`);
} finally {
  daemon.kill("SIGTERM");
  await new Promise((r) => daemon.once("exit", r));
  rmSync(work, { recursive: true, force: true });
}
