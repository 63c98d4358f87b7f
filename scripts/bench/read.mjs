// Read benchmark: the app read path of a 3-node cluster, GET /v1/read on a follower, serializable
// and linearizable, at 1 and 64 connections. With --vs-etcd, etcd's range (serializable and
// linearizable) on a follower of a 3-member etcd cluster, in the same run, alternating.
//   node scripts/bench.mjs read [--seconds 5] [--vs-etcd]
import { runSuite } from "./compare.mjs";
import { etcdRequests } from "./etcd.mjs";

await runSuite("read benchmark", ({ cluster, etcd: e }) => {
  const { auth, follower } = cluster;
  const read = (consistency) => (n) => ({
    method: "GET",
    path: `/v1/read/bench/k${n % 1000}?consistency=${consistency}`,
    headers: auth,
  });
  return [
    [
      "app read serializable, follower",
      1,
      follower,
      read("serializable"),
      e.follower,
      etcdRequests.read(true),
    ],
    [
      "app read serializable, follower",
      64,
      follower,
      read("serializable"),
      e.follower,
      etcdRequests.read(true),
    ],
    [
      "app read linearizable, follower",
      1,
      follower,
      read("linearizable"),
      e.follower,
      etcdRequests.read(false),
    ],
    [
      "app read linearizable, follower",
      64,
      follower,
      read("linearizable"),
      e.follower,
      etcdRequests.read(false),
    ],
  ];
});
