#!/usr/bin/env node
/**
 * `pnpm sim --seeds N [--nodes 3|5] [--steps K] [--seed S] [--trace] [--bug NAME] [--from F]`
 * Runs seeded simulations of the Raft core; exits 1 on any violation and prints how to replay it.
 */
import { parseArgs } from "node:util";
import type { BugSwitches } from "../types.js";
import { runSeed } from "./run.js";

const BUGS: (keyof BugSwitches)[] = [
  "commitPrevTermByCounting",
  "forgetVote",
  "skipPrevLogCheck",
  "staleLeaderReads",
];

const { values } = parseArgs({
  options: {
    seeds: { type: "string" },
    seed: { type: "string" },
    from: { type: "string", default: "1" },
    nodes: { type: "string" },
    steps: { type: "string", default: "600" },
    trace: { type: "boolean", default: false },
    bug: { type: "string" },
    intensity: { type: "string" },
    "stop-on-failure": { type: "boolean", default: false },
  },
});

function int(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`--${name} must be a non-negative integer\n`);
    process.exit(2);
  }
  return value;
}

const nodes = int("nodes", values.nodes);
if (nodes !== undefined && nodes !== 3 && nodes !== 5) {
  process.stderr.write("--nodes must be 3 or 5\n");
  process.exit(2);
}
const bug = values.bug as keyof BugSwitches | undefined;
if (bug !== undefined && !BUGS.includes(bug)) {
  process.stderr.write(`--bug must be one of ${BUGS.join(", ")}\n`);
  process.exit(2);
}
const steps = int("steps", values.steps)!;
const intensity = values.intensity === undefined ? undefined : Number(values.intensity);
if (intensity !== undefined && !(intensity > 0)) {
  process.stderr.write("--intensity must be a positive number\n");
  process.exit(2);
}
const extra = { ...(bug ? { bug } : {}), ...(intensity ? { intensity } : {}) };
const single = int("seed", values.seed);
const nodesFor = (seed: number) => (nodes ?? (seed % 2 === 1 ? 3 : 5)) as 3 | 5;
const replay = (seed: number) =>
  `pnpm sim --seed ${seed} --nodes ${nodesFor(seed)} --steps ${steps}${bug ? ` --bug ${bug}` : ""}${intensity ? ` --intensity ${intensity}` : ""} --trace`;

if (single !== undefined) {
  const trace = values.trace ? (line: string) => process.stdout.write(`${line}\n`) : undefined;
  const result = runSeed({
    seed: single,
    nodes: nodesFor(single),
    steps,
    ...extra,
    ...(trace ? { trace } : {}),
  });
  const s = result.stats;
  process.stdout.write(
    `seed ${single} (${result.nodes} nodes, ${s.steps} steps): ${result.ok ? "ok" : `VIOLATION ${result.violation}`}\n` +
      `  ${s.ops} client ops (${s.completed} answered), ${s.crashes} crashes, ${s.elections} leader terms, ${s.commits} entries applied\n`,
  );
  process.exit(result.ok ? 0 : 1);
}

const count = int("seeds", values.seeds) ?? 100;
const from = int("from", values.from)!;
const started = performance.now();
let failures = 0;
let undecided = 0;
let lastReport = started;
for (let seed = from; seed < from + count; seed++) {
  const result = runSeed({ seed, nodes: nodesFor(seed), steps, ...extra });
  if (result.stats.undecided) undecided++;
  if (!result.ok) {
    failures++;
    process.stdout.write(
      `seed ${seed} (${result.nodes} nodes): ${result.violation?.split("\n")[0]}\n  replay: ${replay(seed)}\n`,
    );
    if (values["stop-on-failure"]) break;
  }
  const now = performance.now();
  if (now - lastReport > 5000) {
    lastReport = now;
    process.stdout.write(`... ${seed - from + 1}/${count} seeds, ${failures} violations\n`);
  }
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${count} seeds (${from}..${from + count - 1}), ${steps} steps each: ${failures} violations in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} seeds/s)${undecided > 0 ? `; the linearizability search gave up on ${undecided}` : ""}\n`,
);
process.exit(failures > 0 ? 1 : 0);
