// What the cluster and read suites share: options (--seconds, --vs-etcd, --vs-build, --loadgen,
// --repeat), a 3-node cfgd cluster (and with --vs-etcd a 3-member etcd, with --vs-build a 3-node
// cluster of another build of cfgd) holding 1,000 keys of about 256 bytes in project "bench", and
// the loop that runs each case on cfgd and then on the other system and prints one table.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
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
  withCpu,
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
  ...(runs.every((r) => r.cpu)
    ? {
        cpu: runs[0].cpu.map((_, i) => median(runs.map((r) => r.cpu[i]))),
        cores: median(runs.map((r) => r.cores)),
      }
    : {}),
});

/**
 * A case's CPU per request on each node of a system: the node the load went to, then the others
 * (µs), and the cores the first one kept busy: where a system spends its work, and whether the
 * node taking the load is held to one core.
 */
const cpuCell = (r) =>
  r.cpu
    ? `${r.cpu.map((us) => us.toFixed(0).padStart(4)).join(" ")} us ${r.cores.toFixed(2).padStart(5)} cores`
    : "n/a";

/** The cfgd.js of `--vs-build`: a checkout's (built), or the file itself. */
function otherBuild(path) {
  const file = statSync(path, { throwIfNoEntry: false })?.isDirectory()
    ? join(path, "packages/daemon/bin/cfgd.js")
    : path;
  if (!existsSync(file) || !existsSync(join(file, "../../dist/main.js"))) {
    console.error(
      `--vs-build: no built cfgd at ${file}; give a checkout where 'pnpm install && pnpm build' has run`,
    );
    process.exit(2);
  }
  return resolve(file);
}

/**
 * The schema set of project "checked": five JSON Schemas of about 2 KB, one of which matches the
 * keys written (k*), as a team's repository might hold for its services.
 */
const SCHEMAS = Array.from({ length: 5 }, (_, i) => ({
  name: `service-${i}`,
  match: i === 0 ? "k*" : `service-${i}/*`,
  schema: {
    type: "object",
    required: ["payload"],
    properties: {
      payload: { type: "string", maxLength: 4096 },
      ...Object.fromEntries(
        Array.from({ length: 20 }, (_, f) => [
          `setting${f}`,
          { type: "string", maxLength: 256, description: `setting ${f} of service ${i}, as documented` },
        ]),
      ),
    },
  },
}));

/**
 * Projects "bench" with keys k0..k999 and "checked" with SCHEMAS on a cfgd cluster, there on its
 * follower too.
 */
async function seed(cluster, value) {
  const { url, auth, leader, follower } = cluster;
  for (const name of ["bench", "checked"])
    await fetch(`${url(leader)}/v1/projects`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name }),
    });
  for (const { name, ...binding } of SCHEMAS) {
    const response = await fetch(`${url(leader)}/v1/projects/checked/schemas/${name}`, {
      method: "PUT",
      headers: auth,
      body: JSON.stringify(binding),
    });
    if (!response.ok)
      throw new Error(`setting schema ${name} failed: ${response.status} ${await response.text()}`);
  }
  await createKeys(url(leader), auth, 1000, value); // every key the reads ask for exists
  await waitForKeys(url(follower), auth, 1000);
}

/**
 * `cases({ cluster, etcd, value })` returns rows of
 * [name, connections, cfgd node index, cfgd request maker, etcd node index, etcd request maker].
 * With --vs-build the other build's rows are cases({ cluster: other, ... })'s cfgd ones.
 */
export async function runSuite(title, cases) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "5" },
      "vs-etcd": { type: "boolean", default: false },
      "vs-build": { type: "string" },
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
  if (vsEtcd && values["vs-build"] !== undefined) {
    console.error("--vs-etcd and --vs-build: one comparison at a time");
    process.exit(2);
  }
  const build = values["vs-build"] === undefined ? null : otherBuild(values["vs-build"]);
  if (vsEtcd && !etcdBinary()) {
    console.error("--vs-etcd needs an etcd binary on PATH (Debian: apt-get install etcd-server)");
    process.exit(2);
  }

  const cluster = await startCluster(3);
  let etcd = null;
  let other = null;
  try {
    if (vsEtcd) etcd = await startEtcd(3);
    if (build) other = await startCluster(3, [], build);
  } catch (error) {
    await cluster.stop();
    await etcd?.stop();
    throw error;
  }
  try {
    const { url } = cluster;
    const value = JSON.stringify({ payload: "x".repeat(230) }); // about 256 bytes
    await seed(cluster, value);
    if (other) await seed(other, value);
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
    const them = etcd ? "etcd" : other ? "base" : null;
    console.log(
      `${title}: 3 cfgd nodes${etcd ? " vs 3 etcd members" : ""}${other ? ` vs 3 nodes of another build (base: ${build})` : ""} on loopback, fsync on, ${seconds} s per case${warmUp ? ` after ${warmUp} s of warm-up (and ${suiteWarmUp} s of each kind of case at 64 connections before the first)` : ""}, values of ~256 bytes`,
    );
    console.log(`load generator: ${generator}`);
    if (repeat > 1)
      console.log(
        `each case run ${repeat} times${them ? `, cfgd and ${them} in turn` : ""}: the medians of req/s, p50 and p99 (errors: all runs)`,
      );
    console.log(them ? compareHeader(them) : header());
    const e = etcd ?? { leader: 0, follower: 0 };
    const rows = cases({ cluster, etcd: e, value });
    // The other system of each row: etcd's node and request maker, or the other build's.
    const theirUrl = etcd ? etcd.url : other?.url;
    if (other) {
      const otherRows = cases({ cluster: other, etcd: e, value });
      rows.forEach((r, i) => {
        r[4] = otherRows[i][2];
        r[5] = otherRows[i][3];
      });
    }
    if (suiteWarmUp) {
      const kinds = new Map(rows.map((r) => [r[0], r]));
      for (const [, , node, make, theirNode, theirMake] of kinds.values()) {
        await load(url(node), 64, suiteWarmUp, make);
        if (theirUrl) await load(theirUrl(theirNode), 64, suiteWarmUp, theirMake);
      }
    }
    const ourPids = cluster.children.map((child) => child.pid);
    const theirPids = (etcd ?? other)?.children.map((child) => child.pid) ?? [];
    const cpuLines = [];
    for (const [name, connections, node, make, theirNode, theirMake] of rows) {
      const ours = [];
      const theirs = [];
      for (let run = 0; run < repeat; run++) {
        if (warmUp && run === 0) await load(url(node), connections, warmUp, make);
        ours.push(await withCpu(ourPids, node, () => load(url(node), connections, seconds, make)));
        if (!theirUrl) continue;
        if (warmUp && run === 0) await load(theirUrl(theirNode), connections, warmUp, theirMake);
        theirs.push(
          await withCpu(theirPids, theirNode, () =>
            load(theirUrl(theirNode), connections, seconds, theirMake),
          ),
        );
      }
      const [mine, their] = [medians(ours), theirUrl ? medians(theirs) : null];
      console.log(their ? compareRow(name, connections, mine, their) : row(name, connections, mine));
      cpuLines.push(
        `${name.padEnd(34)}${String(connections).padStart(6)} | ${cpuCell(mine)}${their ? ` | ${cpuCell(their)}` : ""}`,
      );
    }
    console.log(
      `\nCPU per request on each node (the one the load went to, then the other two) and the cores the first kept busy:\n${"case".padEnd(34)}${"conns".padStart(6)} | cfgd${them ? ` | ${them}` : ""}`,
    );
    for (const line of cpuLines) console.log(line);
  } finally {
    await cluster.stop();
    await etcd?.stop();
    await other?.stop();
  }
}
