// Memory benchmark: resident memory (RSS) of the nodes of a 3-node cluster holding N keys
// (default 100,000 configs of ~256 bytes, written in pushes of 10,000), read from /proc.
// Measured 1 s after the last node applied the last push, and again --settle seconds later.
//   node scripts/bench.mjs memory [--keys 100000] [--settle 20]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startCluster, waitFor } from "./lib.mjs";

const { values } = parseArgs({
  options: { keys: { type: "string", default: "100000" }, settle: { type: "string", default: "20" } },
});
const settle = Number(values.settle);
if (!(settle >= 0)) throw new Error("--settle must be a number of seconds, 0 or more");
const keys = Number(values.keys);
if (!Number.isInteger(keys) || keys < 1) throw new Error("--keys must be a positive integer");

const rss = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line.split(/\s+/)[1]) / 1024;
};

const cluster = await startCluster(3);
try {
  const { url, auth, leader, children, ids } = cluster;
  await fetch(`${url(leader)}/v1/projects`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bench" }),
  });
  const idle = children.map((c) => rss(c.pid));
  const started = performance.now();
  let revision = 0;
  for (let from = 0; from < keys; from += 10_000) {
    const changes = [];
    for (let i = from; i < Math.min(keys, from + 10_000); i++) {
      changes.push({ op: "put", key: `team-${i % 100}/svc-${i}`, value: { payload: "x".repeat(230), i } });
    }
    const response = await fetch(`${url(leader)}/v1/projects/bench/pushes`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ baseRevision: revision, changes }),
    });
    if (response.status !== 200) throw new Error(`push failed: ${response.status} ${await response.text()}`);
    revision = (await response.json()).revision;
  }
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < ids.length; i++) {
    await waitFor(
      `node ${ids[i]} applied everything`,
      async () => {
        const p = await (
          await fetch(`${url(i)}/v1/projects/bench?consistency=serializable`, { headers: auth })
        ).json();
        return p.revision === revision ? true : undefined;
      },
      120_000,
    );
  }
  global.gc?.();
  await new Promise((r) => setTimeout(r, 1000));
  const after = children.map((c) => rss(c.pid));
  // And once the nodes have been idle for a while: a node gives back the heap the pushes' garbage
  // took once its event loop has been quiet for one of its 500 ms checks (runtime/idle-gc.ts).
  await new Promise((r) => setTimeout(r, settle * 1000));
  const settled = children.map((c) => rss(c.pid));
  console.log(
    `memory benchmark: ${keys} keys of ~256 bytes written in ${Math.ceil(keys / 10_000)} pushes (${seconds.toFixed(1)} s)`,
  );
  console.log(
    `${"node".padEnd(10)}${"role".padEnd(10)}${"RSS idle MB".padStart(13)}${"RSS with keys MB".padStart(18)}${`${settle} s later MB`.padStart(15)}`,
  );
  for (let i = 0; i < ids.length; i++) {
    console.log(
      `${ids[i].padEnd(10)}${(i === leader ? "leader" : "follower").padEnd(10)}${idle[i].toFixed(1).padStart(13)}${after[i].toFixed(1).padStart(18)}${settled[i].toFixed(1).padStart(15)}`,
    );
  }
} finally {
  await cluster.stop();
}
