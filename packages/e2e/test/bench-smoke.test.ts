import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers/processes.js";

const run = (args: string[]) =>
  new Promise<string>((done, fail) =>
    execFile(
      process.execPath,
      [join(ROOT, "scripts/bench.mjs"), ...args],
      { timeout: 120_000 },
      (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)),
    ),
  );

describe("pnpm bench cluster (smoke)", () => {
  it("prints a row per case", async () => {
    const output = await run(["cluster", "--seconds", "0.3"]);
    expect(output).toContain("cluster benchmark: 3 cfgd nodes");
    expect(
      output.match(/^(write|serializable read|linearizable read), (leader|follower) +\d+ +\d+/gm),
    ).toHaveLength(8);
  }, 130_000);
});

describe("pnpm bench push (smoke: the suite runs; times are not asserted)", () => {
  it("prints its table for a small repository", async () => {
    const output = await new Promise<string>((done, fail) =>
      execFile(
        process.execPath,
        [join(ROOT, "scripts/bench.mjs"), "push", "--keys", "100"],
        { timeout: 120_000 },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)),
      ),
    );
    expect(output).toContain("push benchmark: 100 configs");
    for (const row of ["first push", "no-change diff", "one-key change: diff", "one-key change: push"]) {
      expect(output).toMatch(new RegExp(`${row}.*\\d+\\.\\d\\d`));
    }
  }, 130_000);
});
