#!/usr/bin/env node
// `pnpm bench <suite> [options]`: benchmarks are measured here, never asserted in tests.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const suites = {
  cluster: {
    file: "cluster.mjs",
    what: "write and read throughput and latency of a 3-node cluster at 1 and 64 connections",
  },
  push: { file: "push.mjs", what: "push a generated repository of N configs (~1 KiB each), then diff it" },
};

const [suite, ...rest] = process.argv.slice(2);
if (!suite || !(suite in suites)) {
  console.error(`usage: pnpm bench <suite> [options]\n\nsuites:`);
  for (const [name, s] of Object.entries(suites)) console.error(`  ${name.padEnd(8)} ${s.what}`);
  process.exit(suite ? 1 : 0);
}
const here = dirname(fileURLToPath(import.meta.url));
const result = spawnSync(process.execPath, [join(here, "bench", suites[suite].file), ...rest], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
