// Cluster benchmark: a 3-node cfgd cluster on loopback (fsync on), driven over HTTP/1.1 with
// keep-alive by an in-process load generator (undici). Prints req/s, p50 and p99 per case.
//   node scripts/bench.mjs cluster [--seconds 5]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Pool } from "undici";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error("--seconds must be a positive number");

const freePort = () =>
  new Promise((done) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });

const work = mkdtempSync(join(tmpdir(), "cfg-bench-cluster-"));
const ids = ["n1", "n2", "n3"];
const ports = [];
for (const _ of ids) ports.push(await freePort());
const peers = ids.map((id, i) => `${id}=http://127.0.0.1:${ports[i]}`).join(",");
const children = ids.map((id, i) =>
  spawn(
    process.execPath,
    [
      join(root, "packages/daemon/bin/cfgd.js"),
      "--node-id",
      id,
      "--listen",
      `127.0.0.1:${ports[i]}`,
      "--peers",
      peers,
      "--data-dir",
      join(work, id),
      "--log-level",
      "warn",
    ],
    { stdio: "ignore", env: { ...process.env, CFGD_CLUSTER_SECRET: "bench-cluster-secret-0123456789" } },
  ),
);
const url = (i) => `http://127.0.0.1:${ports[i]}`;

async function waitFor(what, probe, timeoutMs = 30_000) {
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

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Run `connections` concurrent loops of one request kind for `seconds`; latencies in ms. */
async function load(base, connections, makeRequest) {
  const pool = new Pool(base, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const latencies = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const { status, body } = await pool.request(makeRequest(n++));
        await body.dump();
        if (status >= 300) errors++;
        latencies.push(performance.now() - started);
      }
    }),
  );
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    rps: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

try {
  for (let i = 0; i < 3; i++)
    await waitFor(`node ${i + 1}`, async () => ((await fetch(`${url(i)}/readyz`)).ok ? true : undefined));
  const token = readFileSync(join(work, "n1", "admin-token"), "utf8").trim();
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const leaderIndex = await waitFor("a leader", async () => {
    const view = await (await fetch(`${url(0)}/v1/cluster`, { headers: auth })).json();
    return view.leader ? ids.indexOf(view.leader) : undefined;
  });
  const follower = (leaderIndex + 1) % 3;
  await fetch(`${url(leaderIndex)}/v1/projects`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bench" }),
  });
  const value = JSON.stringify({ payload: "x".repeat(230) }); // about 256 bytes
  const write = (n) => ({
    method: "PUT",
    path: `/v1/projects/bench/configs/k${n % 1000}`,
    headers: auth,
    body: value,
  });
  await load(url(leaderIndex), 8, write); // warm up and create the keys
  const read = (consistency) => (n) => ({
    method: "GET",
    path: `/v1/projects/bench/configs/k${n % 1000}?consistency=${consistency}`,
    headers: auth,
  });
  const cases = [
    ["write, leader", leaderIndex, 1, write],
    ["write, leader", leaderIndex, 64, write],
    ["write, follower", follower, 1, write],
    ["write, follower", follower, 64, write],
    ["serializable read, follower", follower, 1, read("serializable")],
    ["serializable read, follower", follower, 64, read("serializable")],
    ["linearizable read, follower", follower, 1, read("linearizable")],
    ["linearizable read, follower", follower, 64, read("linearizable")],
  ];
  console.log(
    `cluster benchmark: 3 cfgd nodes on loopback, fsync on, ${seconds} s per case, values of ~256 bytes`,
  );
  console.log(
    `${"case".padEnd(30)}${"conns".padStart(6)}${"req/s".padStart(10)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"errors".padStart(8)}`,
  );
  for (const [name, node, connections, make] of cases) {
    const r = await load(url(node), connections, make);
    console.log(
      `${name.padEnd(30)}${String(connections).padStart(6)}${r.rps.toFixed(0).padStart(10)}${r.p50.toFixed(2).padStart(9)}${r.p99.toFixed(2).padStart(9)}${String(r.errors).padStart(8)}`,
    );
  }
} finally {
  for (const child of children) child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
