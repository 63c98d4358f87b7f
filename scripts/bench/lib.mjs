// Shared pieces of the benchmark suites: a real cfgd cluster on loopback and a load generator.
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { wrkLoad, wrkVersion } from "./wrk.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const freePort = async () => (await freePorts(1))[0];

/**
 * `count` distinct free ports: every listener stays open until all are chosen, so one call never
 * hands out the same port twice (a port closed and asked for again may come back at once).
 */
export async function freePorts(count) {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise((done) => {
          const server = createServer().listen(0, "127.0.0.1", () => done(server));
        }),
    ),
  );
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

/**
 * Start processes with `launch()` until all of them come up: another process on the machine (a
 * test running beside the bench) may take a chosen port before the child binds it, and that child
 * then exits at once. `launch` returns { children, ready, stop }; `ready()` resolves when all are up.
 */
export async function startWithRetries(what, launch, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    const started = await launch();
    const exited = new Promise((_, fail) => {
      for (const child of started.children)
        child.once("exit", (code, signal) =>
          fail(new Error(`${what}: a process exited while starting (${signal ?? `exit code ${code}`})`)),
        );
    });
    exited.catch(() => {});
    try {
      return { ...started, value: await Promise.race([started.ready(), exited]) };
    } catch (error) {
      await started.stop();
      if (attempt >= attempts) throw error;
      console.error(`${error.message}; starting again on other ports`);
    }
  }
}

export async function waitFor(what, probe, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {}
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Where a node's output goes: nowhere, or with CFG_BENCH_LOG_DIR set a file per node there
 * (`n1.log`...; pass `--log-level info` in the extra cfgd arguments to see snapshots and elections).
 */
function logTo(id) {
  const dir = process.env.CFG_BENCH_LOG_DIR;
  if (!dir) return "ignore";
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, `${id}.log`), "a");
  return ["ignore", fd, fd];
}

/** Start `size` cfgd nodes (fsync on) and wait for a leader. Await stop() in a finally. */
/**
 * A cluster of `size` cfgd nodes on loopback. `cfgd`: the cfgd.js to run (another build's, say);
 * by default CFG_BENCH_CFGD's, else this checkout's.
 */
export async function startCluster(size = 3, extraArgs = [], cfgd = process.env.CFG_BENCH_CFGD) {
  const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const { value, ...started } = await startWithRetries("cfgd", async () => {
    const work = mkdtempSync(join(tmpdir(), "cfg-bench-"));
    const ports = await freePorts(size);
    const peers = ids.map((id, i) => `${id}=http://127.0.0.1:${ports[i]}`).join(",");
    const children = ids.map((id, i) => {
      const stdio = logTo(id);
      const child = spawn(
        process.execPath,
        [
          ...(process.env.CFG_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean),
          cfgd ?? join(root, "packages/daemon/bin/cfgd.js"),
          ...["--node-id", id, "--listen", `127.0.0.1:${ports[i]}`, "--peers", peers],
          // Throughput is measured here, not the per-address read limit (500/s by default).
          ...["--data-dir", join(work, id), "--log-level", "warn", "--read-rate-limit", "0", ...extraArgs],
          // CFG_BENCH_CFGD_ARGS passes cfgd's own options (`--log-level info --snapshot-count 30000`).
          ...(process.env.CFG_BENCH_CFGD_ARGS ?? "").split(" ").filter(Boolean),
        ],
        { stdio, env: { ...process.env, CFGD_CLUSTER_SECRET: "bench-cluster-secret-0123456789" } },
      );
      // The child has its own copy of the log's descriptor: this process's is closed at once.
      if (Array.isArray(stdio)) closeSync(stdio[1]);
      return child;
    });
    const url = (i) => `http://127.0.0.1:${ports[i]}`;
    // With --cpu-prof in CFG_BENCH_NODE_ARGS the nodes must exit by themselves to write their
    // profiles: SIGTERM, then SIGKILL for any still there after 5 s.
    const profiling = (process.env.CFG_BENCH_NODE_ARGS ?? "").includes("--cpu-prof");
    const stop = async () => {
      if (profiling) {
        const exited = children.map((child) =>
          child.exitCode !== null || child.signalCode !== null
            ? Promise.resolve()
            : new Promise((done) => child.once("exit", done)),
        );
        for (const child of children) child.kill("SIGTERM");
        await Promise.race([Promise.all(exited), new Promise((done) => setTimeout(done, 5_000))]);
      }
      for (const child of children) child.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    };
    const ready = async () => {
      for (let i = 0; i < size; i++)
        await waitFor(`node ${i + 1}`, async () => ((await fetch(`${url(i)}/readyz`)).ok ? true : undefined));
      const token = readFileSync(join(work, "n1", "admin-token"), "utf8").trim();
      const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const leader = await waitFor("a leader", async () => {
        const view = await (await fetch(`${url(0)}/v1/cluster`, { headers: auth })).json();
        return view.leader ? ids.indexOf(view.leader) : undefined;
      });
      return { url, auth, token, leader };
    };
    return { children, stop, ready };
  });
  const { url, auth, token, leader } = value;
  return { ids, url, auth, token, leader, follower: (leader + 1) % size, ...started };
}

/**
 * CPU time (user + system, ms) each process has used so far, read from /proc/<pid>/stat (Linux;
 * the kernel counts it in ticks of 1/100 s there); null where /proc cannot be read.
 */
function cpuMs(pids) {
  try {
    return pids.map((pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      return (Number(fields[11]) + Number(fields[12])) * 10;
    });
  } catch {
    return null;
  }
}

/**
 * Run `load` and count the CPU each of `pids` used meanwhile: `cpu` is µs of CPU per request for
 * each process, the one the load went to (`node`) first, then the others; `cores`, the cores the
 * first one kept busy. A node that spreads its work over threads can use more than one.
 */
export async function withCpu(pids, node, run) {
  const before = cpuMs(pids);
  const result = await run();
  const after = cpuMs(pids);
  if (!before || !after) return result;
  const requests = result.rps * result.seconds;
  const order = [node, ...[...pids.keys()].filter((i) => i !== node)];
  const used = order.map((i) => after[i] - before[i]);
  return { ...result, cpu: used.map((ms) => (ms * 1000) / requests), cores: used[0] / 1000 / result.seconds };
}

export function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * The load generator: wrk when it is installed (or asked for), else an in-process undici client.
 * `choice`: "wrk", "undici" or undefined (wrk if found). Returns { name, load }.
 */
export function loadGenerator(choice) {
  if (choice !== undefined && choice !== "wrk" && choice !== "undici")
    throw new Error(`--loadgen must be wrk or undici, not ${choice}`);
  const wrk = choice === "undici" ? null : wrkVersion();
  if (choice === "wrk" && !wrk)
    throw new Error("--loadgen wrk: wrk is not installed (Debian: apt-get install wrk)");
  if (wrk) return { name: `${wrk}, one thread`, load: wrkLoad };
  return { name: "undici in this process (apt-get install wrk for a lighter one)", load: undiciLoad };
}

/** Run `connections` concurrent loops of one request kind for `seconds`; latencies in ms. */
export async function undiciLoad(base, connections, seconds, makeRequest) {
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const { statusCode, body } = await pool.request(makeRequest(n++));
        await body.dump();
        if (statusCode >= 300) errors++;
        latencies.push(performance.now() - started);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

export function header() {
  return `${"case".padEnd(34)}${"conns".padStart(6)}${"req/s".padStart(10)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"errors".padStart(8)}`;
}

export function row(name, connections, r) {
  return `${name.padEnd(34)}${String(connections).padStart(6)}${r.rps.toFixed(0).padStart(10)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}`;
}

/** Write keys k0..k{count-1} of project "bench" in one push. */
export async function createKeys(base, auth, count, value) {
  const changes = Array.from({ length: count }, (_, i) => ({
    op: "put",
    key: `k${i}`,
    value: JSON.parse(value),
  }));
  const response = await fetch(`${base}/v1/projects/bench/pushes`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ baseRevision: 0, changes }),
  });
  if (response.status !== 200)
    throw new Error(`creating the keys failed: ${response.status} ${await response.text()}`);
}

/** Wait until node `base` has applied the keys (a follower may be a moment behind the leader). */
export async function waitForKeys(base, auth, count) {
  await waitFor("the keys on every node", async () =>
    (
      await fetch(`${base}/v1/projects/bench/configs/k${count - 1}?consistency=serializable`, {
        headers: auth,
      })
    ).ok
      ? true
      : undefined,
  );
}

/** Header and rows of a side-by-side table (cfgd | etcd, or `them` | ratio of req/s and of p99). */
export function compareHeader(them = "etcd") {
  return `${"case".padEnd(34)}${"conns".padStart(6)} |${"cfgd req/s".padStart(11)}${"p50".padStart(8)}${"p99".padStart(8)} |${`${them} req/s`.padStart(11)}${"p50".padStart(8)}${"p99".padStart(8)} |${"req/s x".padStart(9)}${"p99 x".padStart(7)}`;
}

export function compareRow(name, connections, ours, theirs) {
  const side = (r) =>
    `${r.rps.toFixed(0).padStart(11)}${r.p50.toFixed(2).padStart(8)}${r.p99.toFixed(2).padStart(8)}`;
  const errors = ours.errors + theirs.errors > 0 ? `  errors ${ours.errors}/${theirs.errors}` : "";
  return `${name.padEnd(34)}${String(connections).padStart(6)} |${side(ours)} |${side(theirs)} |${(ours.rps / theirs.rps).toFixed(2).padStart(9)}${(ours.p99 / theirs.p99).toFixed(2).padStart(7)}${errors}`;
}
