import { describe, expect, it } from "vitest";
import type { BugSwitches } from "../types.js";
import { runSeed } from "./run.js";

const STEPS = 600;

describe("the deterministic simulator", () => {
  it("runs 500 seeds across 3- and 5-node clusters with no violation", () => {
    const failures: string[] = [];
    const started = performance.now();
    for (let seed = 1; seed <= 500; seed++) {
      const result = runSeed({ seed, nodes: seed % 2 === 1 ? 3 : 5, steps: STEPS });
      if (!result.ok) failures.push(`seed ${seed}: ${result.violation}`);
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `500 seeds in ${seconds.toFixed(1)} s (${(500 / seconds).toFixed(0)} seeds/s), ${failures.length} violations`,
    );
    expect(failures).toEqual([]);
  }, 300_000);

  it("replays a seed exactly: the same seed gives the same trace", () => {
    const traceOf = (seed: number) => {
      const lines: string[] = [];
      runSeed({ seed, nodes: 5, steps: 300, trace: (line) => lines.push(line) });
      return lines;
    };
    const first = traceOf(42);
    expect(first.length).toBeGreaterThan(10);
    expect(traceOf(42)).toEqual(first);
    expect(traceOf(43)).not.toEqual(first);
  });

  // Each injected bug must be caught within a bounded number of seeds: proof that the checks bite.
  // Figure 8 needs three leaders in a row and a lost no-op: it gets the violent fault mix.
  const bugs: { bug: keyof BugSwitches; bound: number; nodes?: 3 | 5; intensity?: number }[] = [
    { bug: "forgetVote", bound: 3000 },
    { bug: "skipPrevLogCheck", bound: 200 },
    { bug: "staleLeaderReads", bound: 1000 },
    { bug: "commitPrevTermByCounting", bound: 3000, nodes: 3, intensity: 8 },
  ];
  for (const { bug, bound, nodes, intensity } of bugs) {
    it(`finds the injected bug ${bug} within ${bound} seeds`, () => {
      for (let seed = 1; seed <= bound; seed++) {
        const result = runSeed({
          seed,
          nodes: nodes ?? (seed % 2 === 1 ? 3 : 5),
          steps: STEPS,
          bug,
          ...(intensity ? { intensity } : {}),
        });
        if (!result.ok) {
          const flags = `${nodes ? ` --nodes ${nodes}` : ""}${intensity ? ` --intensity ${intensity}` : ""}`;
          console.log(
            `${bug}: found at seed ${seed} (pnpm sim --seed ${seed}${flags} --bug ${bug}): ${result.violation?.split("\n")[0]}`,
          );
          return;
        }
      }
      throw new Error(`${bug} was not found in ${bound} seeds`);
    }, 300_000);
  }
});
