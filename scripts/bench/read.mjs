// Read benchmark: the app read path of a 3-node cluster, GET /v1/read on a follower, serializable
// and linearizable, at 1 and 64 connections. With --vs-etcd, etcd's range (serializable and
// linearizable) on a follower of a 3-member etcd cluster, in the same run, alternating.
//   node scripts/bench.mjs read [--seconds 5] [--vs-etcd]
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
  const value = JSON.stringify({ payload: "x".repeat(230) });
  await createKeys(url(leader), auth, 1000, value);
  await waitForKeys(url(follower), auth, 1000);
  if (etcd) await createEtcdKeys(etcd.url(etcd.leader), 1000, value);
  const read = (consistency) => (n) => ({
    method: "GET",
    path: `/v1/read/bench/k${n % 1000}?consistency=${consistency}`,
    headers: auth,
  });
  console.log(
    `read benchmark: 3 cfgd nodes${etcd ? " vs 3 etcd members" : ""} on loopback, fsync on, ${seconds} s per case, values of ~256 bytes`,
  );
  console.log(etcd ? compareHeader() : header());
  for (const [name, connections, make, etcdMake] of [
    ["app read serializable, follower", 1, read("serializable"), etcdRequests.read(true)],
    ["app read serializable, follower", 64, read("serializable"), etcdRequests.read(true)],
    ["app read linearizable, follower", 1, read("linearizable"), etcdRequests.read(false)],
    ["app read linearizable, follower", 64, read("linearizable"), etcdRequests.read(false)],
  ]) {
    const ours = await load(url(follower), connections, seconds, make);
    if (!etcd) console.log(row(name, connections, ours));
    else
      console.log(
        compareRow(
          name,
          connections,
          ours,
          await load(etcd.url(etcd.follower), connections, seconds, etcdMake),
        ),
      );
  }
} finally {
  await cluster.stop();
  etcd?.stop();
}
