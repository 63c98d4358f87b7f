// Watch benchmark: one change fanned out to N open watchers (GET /v1/watch, server-sent events,
// each on its own connection, spread over the 3 nodes): time from sending the write until each
// watcher has the event, first / p50 / p99 / last.
//   node scripts/bench.mjs watch [--watchers 1000]
import { parseArgs } from "node:util";
import { Agent, request } from "undici";
import { percentile, startCluster, waitFor } from "./lib.mjs";

const { values } = parseArgs({ options: { watchers: { type: "string", default: "1000" } } });
const watchers = Number(values.watchers);
if (!(watchers > 0)) throw new Error("--watchers must be a positive number");

const cluster = await startCluster(3);
try {
  const { url, auth, leader } = cluster;
  await fetch(`${url(leader)}/v1/projects`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ name: "bench" }),
  });
  const value = JSON.stringify({ payload: "x".repeat(230) });
  for (let i = 0; i < 3; i++) {
    await waitFor(`the project on node ${i + 1}`, async () =>
      (await fetch(`${url(i)}/v1/projects/bench?consistency=serializable`, { headers: auth })).ok
        ? true
        : undefined,
    );
  }
  // Fan-out: watchers spread over the three nodes, each on its own connection.
  const agent = new Agent({ connections: watchers, pipelining: 0, keepAliveTimeout: 60_000 });
  const received = new Array(watchers).fill(0);
  let started = 0;
  const ready = [];
  const streams = [];
  for (let i = 0; i < watchers; i++) {
    const node = i % 3;
    const opened = request(`${url(node)}/v1/watch/bench?heartbeat=60s`, {
      headers: auth,
      dispatcher: agent,
    }).then(({ body }) => {
      streams.push(body);
      let text = "";
      let gotStart = false;
      return new Promise((resolveReady) => {
        body.on("data", (chunk) => {
          text += chunk.toString();
          if (!gotStart && text.includes("event: start")) {
            gotStart = true;
            resolveReady();
          }
          if (received[i] === 0 && text.includes("event: revision")) received[i] = performance.now();
        });
      });
    });
    ready.push(opened);
  }
  await Promise.all(ready);
  started = performance.now();
  const put = await fetch(`${url(leader)}/v1/projects/bench/configs/fanout`, {
    method: "PUT",
    headers: auth,
    body: value,
  });
  const acked = performance.now();
  if (put.status !== 200) throw new Error(`fan-out write failed: ${put.status}`);
  const deadline = Date.now() + 30_000;
  while (received.some((t) => t === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const times = received
    .filter((t) => t > 0)
    .map((t) => t - started)
    .sort((a, b) => a - b);
  console.log(
    `fan-out: one write (acknowledged in ${(acked - started).toFixed(1)} ms) reached ${times.length} of ${watchers} watchers; ` +
      `first ${times[0]?.toFixed(1)} ms, p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, ` +
      `last ${times[times.length - 1]?.toFixed(1)} ms after it was sent`,
  );
  for (const body of streams) body.destroy();
  await agent.destroy();
} finally {
  await cluster.stop();
}
