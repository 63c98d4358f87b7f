// Cluster benchmark: writes and reads of a 3-node cfgd cluster on loopback (fsync on), driven over
// HTTP/1.1 with keep-alive by an in-process load generator (undici); req/s, p50 and p99 per case.
// With --vs-etcd the same workloads run against a 3-member etcd cluster in the same run, case by
// case, alternating, with the ratios.
//   node scripts/bench.mjs cluster [--seconds 5] [--vs-etcd]
import { parseArgs } from "node:util";
import { createEtcdKeys, etcdBinary, etcdRequests, startEtcd } from "./etcd.mjs";
import {
  compareHeader,
  compareRow,
  createKeys,
  header,
  load,
  row,
  startCluster,
  waitForKeys,
} from "./lib.mjs";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, "vs-etcd": { type: "boolean", default: false } },
});
const seconds = Number(values.seconds);
if (!(seconds > 0)) throw new Error("--seconds must be a positive number");
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
  const write = (n) => ({
    method: "PUT",
    path: `/v1/projects/bench/configs/k${n % 1000}`,
    headers: auth,
    body: value,
  });
  const read = (consistency) => (n) => ({
    method: "GET",
    path: `/v1/projects/bench/configs/k${n % 1000}?consistency=${consistency}`,
    headers: auth,
  });
  // [name, connections, cfgd node, cfgd request, etcd node, etcd request]
  const e = etcd ?? { leader: 0, follower: 0 };
  const cases = [
    ["write, leader", 1, leader, write, e.leader, etcdRequests.write(value)],
    ["write, leader", 64, leader, write, e.leader, etcdRequests.write(value)],
    ["write, follower", 1, follower, write, e.follower, etcdRequests.write(value)],
    ["write, follower", 64, follower, write, e.follower, etcdRequests.write(value)],
    ["serializable read, follower", 1, follower, read("serializable"), e.follower, etcdRequests.read(true)],
    ["serializable read, follower", 64, follower, read("serializable"), e.follower, etcdRequests.read(true)],
    ["linearizable read, follower", 1, follower, read("linearizable"), e.follower, etcdRequests.read(false)],
    ["linearizable read, follower", 64, follower, read("linearizable"), e.follower, etcdRequests.read(false)],
  ];
  console.log(
    `cluster benchmark: 3 cfgd nodes${etcd ? " vs 3 etcd members" : ""} on loopback, fsync on, ${seconds} s per case, values of ~256 bytes`,
  );
  console.log(etcd ? compareHeader() : header());
  for (const [name, connections, node, make, etcdNode, etcdMake] of cases) {
    const ours = await load(url(node), connections, seconds, make);
    if (!etcd) {
      console.log(row(name, connections, ours));
      continue;
    }
    const theirs = await load(etcd.url(etcdNode), connections, seconds, etcdMake);
    console.log(compareRow(name, connections, ours, theirs));
  }
} finally {
  await cluster.stop();
  etcd?.stop();
}
