// Cluster benchmark: writes (to a project with schemas too) and reads of a 3-node cfgd cluster on
// loopback (fsync on), over HTTP/1.1 with keep-alive (wrk, or an in-process undici client); req/s,
// p50 and p99 per case. With --vs-etcd the same workloads run against a 3-member etcd cluster in
// the same run, case by case, alternating, with the ratios (--vs-build: another build of cfgd).
//   node scripts/bench.mjs cluster [--seconds 5] [--vs-etcd | --vs-build DIR]
import { runSuite } from "./compare.mjs";
import { etcdRequests } from "./etcd.mjs";

await runSuite("cluster benchmark", ({ cluster, etcd: e, value }) => {
  const { auth, leader, follower } = cluster;
  const writeTo = (project) => (n) => ({
    method: "PUT",
    path: `/v1/projects/${project}/configs/k${n % 1000}`,
    headers: auth,
    body: value,
  });
  const write = writeTo("bench");
  const read = (consistency) => (n) => ({
    method: "GET",
    path: `/v1/projects/bench/configs/k${n % 1000}?consistency=${consistency}`,
    headers: auth,
  });
  return [
    ["write, leader", 1, leader, write, e.leader, etcdRequests.write(value)],
    ["write, leader", 64, leader, write, e.leader, etcdRequests.write(value)],
    // The same writes to a project with a schema set, validated on every node (etcd: the same puts).
    ["write with schemas, leader", 64, leader, writeTo("checked"), e.leader, etcdRequests.write(value)],
    ["write, follower", 1, follower, write, e.follower, etcdRequests.write(value)],
    ["write, follower", 64, follower, write, e.follower, etcdRequests.write(value)],
    ["serializable read, follower", 1, follower, read("serializable"), e.follower, etcdRequests.read(true)],
    ["serializable read, follower", 64, follower, read("serializable"), e.follower, etcdRequests.read(true)],
    ["linearizable read, follower", 1, follower, read("linearizable"), e.follower, etcdRequests.read(false)],
    ["linearizable read, follower", 64, follower, read("linearizable"), e.follower, etcdRequests.read(false)],
  ];
});
