// What the cluster and read suites share: options (--seconds, --vs-etcd, --loadgen, --repeat), a 3-node cfgd cluster
// (and with --vs-etcd a 3-member etcd) holding 1,000 keys of about 256 bytes in project "bench",
// and the loop that runs each case on cfgd and then on etcd and prints one table.
import { parseArgs } from "node:util";
import { createEtcdKeys, etcdBinary, startEtcd } from "./etcd.mjs";
import {
  compareHeader,
  compareRow,
  createKeys,
  header,
  loadGenerator,
  row,
  startCluster,
  waitForKeys,
} from "./lib.mjs";

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One figure per column from several runs of a case: medians, and the errors of them all. */
const medians = (runs) => ({
  rps: median(runs.map((r) => r.rps)),
  p50: median(runs.map((r) => r.p50)),
  p99: median(runs.map((r) => r.p99)),
  errors: runs.reduce((sum, r) => sum + r.errors, 0),
});

/**
 * `cases({ cluster, etcd, value })` returns rows of
 * [name, connections, cfgd node index, cfgd request maker, etcd node index, etcd request maker].
 */
export async function runSuite(title, cases) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      "vs-etcd": { type: "boolean", default: false },
      loadgen: { type: "string" },
      repeat: { type: "string", default: "1" },
    },
  });
  const { name: generator, load } = loadGenerator(values.loadgen);
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new Error("--seconds must be a positive number");
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1)
    throw new Error("--repeat must be a whole number of runs, 1 or more");
  const vsEtcd = values["vs-etcd"];
  if (vsEtcd && !etcdBinary()) {
    console.error("--vs-etcd needs an etcd binary on PATH (Debian: apt-get install etcd-server)");
    process.exit(2);
  }

  const cluster = await startCluster(3);
  let etcd = null;
  try {
    if (vsEtcd) etcd = await startEtcd(3);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  try {
    const { url, auth, leader, follower } = cluster;
    await fetch(`${url(leader)}/v1/projects`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "bench" }),
    });
    const value = JSON.stringify({ payload: "x".repeat(230) }); // about 256 bytes
    await createKeys(url(leader), auth, 1000, value); // every key the reads ask for exists
    await waitForKeys(url(follower), auth, 1000);
    if (etcd) await createEtcdKeys(etcd.url(etcd.leader), 1000, value);
    // A case that runs long enough to be read gets two seconds of the same load first, on both
    // systems: the code a case is the first to run (a follower's HTTP write path, say) is
    // optimized during them, not during the measured seconds. V8 optimizes on background threads,
    // which get little of two cores that the load keeps busy: the first seconds of reads after
    // the writes ran at two thirds of the rate with a p99 of 0.6 s.
    // Before the first case, each kind of case (a name) also runs for a few seconds at 64
    // connections, on both systems: a case run at one connection first (a few hundred requests
    // in its two seconds) otherwise measures cfgd's code before V8 has optimized it (one
    // connection's write p50 fell from 2.8 to 2.0 ms over the first 10 s on a fresh cluster).
    const warmUp = seconds >= 2 ? 2 : 0;
    const suiteWarmUp = seconds >= 2 ? 3 : 0;
    console.log(
      `${title}: 3 cfgd nodes${etcd ? " vs 3 etcd members" : ""} on loopback, fsync on, ${seconds} s per case${warmUp ? ` after ${warmUp} s of warm-up (and ${suiteWarmUp} s of each kind of case at 64 connections before the first)` : ""}, values of ~256 bytes`,
    );
    console.log(`load generator: ${generator}`);
    if (repeat > 1)
      console.log(
        `each case run ${repeat} times${etcd ? ", cfgd and etcd in turn" : ""}: the medians of req/s, p50 and p99 (errors: all runs)`,
      );
    console.log(etcd ? compareHeader() : header());
    const e = etcd ?? { leader: 0, follower: 0 };
    const rows = cases({ cluster, etcd: e, value });
    if (suiteWarmUp) {
      const kinds = new Map(rows.map((r) => [r[0], r]));
      for (const [, , node, make, etcdNode, etcdMake] of kinds.values()) {
        await load(url(node), 64, suiteWarmUp, make);
        if (etcd) await load(etcd.url(etcdNode), 64, suiteWarmUp, etcdMake);
      }
    }
    for (const [name, connections, node, make, etcdNode, etcdMake] of rows) {
      const ours = [];
      const theirs = [];
      for (let run = 0; run < repeat; run++) {
        if (warmUp && run === 0) await load(url(node), connections, warmUp, make);
        ours.push(await load(url(node), connections, seconds, make));
        if (!etcd) continue;
        if (warmUp && run === 0) await load(etcd.url(etcdNode), connections, warmUp, etcdMake);
        theirs.push(await load(etcd.url(etcdNode), connections, seconds, etcdMake));
      }
      console.log(
        etcd
          ? compareRow(name, connections, medians(ours), medians(theirs))
          : row(name, connections, medians(ours)),
      );
    }
  } finally {
    await cluster.stop();
    await etcd?.stop();
  }
}
