#!/usr/bin/env node
// `pnpm bench [suite ...] [options]`: benchmarks are measured here, never asserted in tests.
// Without a suite, every suite runs in turn. `--vs-etcd` (cluster, read) also runs each case
// against a 3-member etcd cluster in the same run and prints the ratios; `--vs-build DIR`, against
// a cluster of another build of cfgd (a built checkout in DIR).
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const suites = {
  cluster: {
    file: "cluster.mjs",
    what: "writes (leader, follower, a project with schemas) and reads (serializable, linearizable) of a 3-node cluster at 1 and 64 connections",
    options: ["--seconds", "--vs-etcd", "--vs-build", "--loadgen", "--repeat"],
  },
  read: {
    file: "read.mjs",
    what: "the app read path (GET /v1/read) on a follower, serializable and linearizable, 1 and 64 connections",
    options: ["--seconds", "--vs-etcd", "--vs-build", "--loadgen", "--repeat"],
  },
  watch: {
    file: "watch.mjs",
    what: "one change fanned out to N open watchers (default 1,000)",
    options: ["--watchers"],
  },
  push: {
    file: "push.mjs",
    what: "push a generated repository of N configs (~1 KiB each), then diff it",
    options: ["--keys"],
  },
  memory: {
    file: "memory.mjs",
    what: "resident memory of a node holding N keys (default 100,000), and after --settle s idle (20)",
    options: ["--keys", "--settle"],
  },
};

const args = process.argv.slice(2);
const chosen = args.filter((a) => !a.startsWith("-") && a in suites);
const rest = args.filter((a) => !chosen.includes(a));
const unknown = args.find(
  (a, i) => !a.startsWith("-") && !(a in suites) && !(args[i - 1] ?? "").startsWith("--"),
);
if (unknown || args.includes("--help")) {
  console.error(
    "usage: pnpm bench [suite ...] [--seconds N] [--vs-etcd | --vs-build DIR] [--loadgen wrk|undici] [--repeat N] [--watchers N] [--keys N] [--settle S]\n\nsuites:",
  );
  for (const [name, s] of Object.entries(suites)) console.error(`  ${name.padEnd(8)} ${s.what}`);
  process.exit(unknown ? 1 : 0);
}
const here = dirname(fileURLToPath(import.meta.url));
let status = 0;
for (const name of chosen.length > 0 ? chosen : Object.keys(suites)) {
  // Each suite gets the options it knows (with their values).
  const own = [];
  for (let i = 0; i < rest.length; i++) {
    if (!suites[name].options.includes(rest[i])) continue;
    own.push(rest[i]);
    if (rest[i] !== "--vs-etcd" && rest[i + 1] !== undefined) own.push(rest[++i]);
  }
  const result = spawnSync(process.execPath, [join(here, "bench", suites[name].file), ...own], {
    stdio: "inherit",
  });
  if (result.status !== 0) status = result.status ?? 1;
  if (chosen.length !== 1) console.log("");
}
process.exit(status);
