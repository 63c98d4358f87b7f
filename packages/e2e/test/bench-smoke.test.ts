import { execFile, spawnSync } from "node:child_process";
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
    // wrk when it is installed, else the in-process client.
    expect(output).toMatch(/^load generator: (wrk .*, one thread|undici in this process)/m);
    const rows = output.match(
      /^(write|write with schemas|serializable read|linearizable read), (leader|follower) +\d+ +\d+.* (\d+)$/gm,
    );
    expect(rows).toHaveLength(9);
    // No request failed (the last column counts answers other than 2xx).
    for (const line of rows!) expect(line).toMatch(/ 0$/);
    // Each case's CPU per request on each of the three nodes, and the cores the loaded one used.
    expect(output).toContain("CPU per request on each node");
    const cpu = output.match(
      /^(write|write with schemas|serializable read|linearizable read), (leader|follower) +\d+ \| +\d+ +\d+ +\d+ us +\d+\.\d\d cores$/gm,
    );
    expect(cpu).toHaveLength(9);
  }, 130_000);
});

describe("pnpm bench read, watch, memory (smoke)", () => {
  it("prints the read cases (the in-process load generator, whether or not wrk is installed; medians of 2 runs)", async () => {
    const output = await run(["read", "--seconds", "0.3", "--loadgen", "undici", "--repeat", "2"]);
    expect(output).toContain("load generator: undici in this process");
    expect(output).toContain("each case run 2 times: the medians of req/s, p50 and p99");
    const rows = output.match(/^app read (serializable|linearizable), follower +\d+ +\d+.* (\d+)$/gm);
    expect(rows).toHaveLength(4);
    for (const line of rows!) expect(line).toMatch(/ 0$/);
  }, 130_000);

  it("prints the fan-out line and the memory table", async () => {
    const output = await run(["watch", "memory", "--watchers", "30", "--keys", "2000", "--settle", "1"]);
    expect(output).toMatch(/fan-out: one write .* reached 30 of 30 watchers/);
    expect(output).toMatch(/memory benchmark: 2000 keys/);
    expect(output.match(/^n\d +(leader|follower) +\d+\.\d +\d+\.\d +\d+\.\d$/gm)).toHaveLength(3);
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

const hasEtcd = spawnSync("etcd", ["--version"]).status === 0;

describe("pnpm bench --vs-etcd (smoke; needs an etcd binary, apt-get install etcd-server)", () => {
  it.skipIf(!hasEtcd)(
    "prints cfgd and etcd side by side with the ratios",
    async () => {
      const output = await run(["cluster", "--seconds", "0.3", "--vs-etcd"]);
      expect(output).toContain("3 cfgd nodes vs 3 etcd members");
      const rows = output.match(
        /^(write|write with schemas|serializable read|linearizable read), (leader|follower) +\d+ \|.*\|.*\| +\d+\.\d\d +\d+\.\d\d$/gm,
      );
      expect(rows).toHaveLength(9);
      const cpu = output.match(
        /^(write|write with schemas|serializable read|linearizable read), (leader|follower) +\d+ \|( +\d+){3} us +\d+\.\d\d cores \|( +\d+){3} us +\d+\.\d\d cores$/gm,
      );
      expect(cpu).toHaveLength(9);
    },
    130_000,
  );
});

describe("pnpm bench --vs-build (smoke: this checkout against itself)", () => {
  it("prints two builds side by side with the ratios", async () => {
    const output = await run(["read", "--seconds", "0.3", "--vs-build", ROOT]);
    expect(output).toContain(
      `vs 3 nodes of another build (base: ${join(ROOT, "packages/daemon/bin/cfgd.js")})`,
    );
    expect(output).toMatch(/\| base req\/s/);
    const rows = output.match(
      /^app read (serializable|linearizable), follower +\d+ \|.*\|.*\| +\d+\.\d\d +\d+\.\d\d$/gm,
    );
    expect(rows).toHaveLength(4);
  }, 130_000);

  it("refuses a directory without a built cfgd, saying what to give", async () => {
    const error = await run(["read", "--vs-build", join(ROOT, "no-such-checkout")]).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /--vs-build: no built cfgd at .*no-such-checkout.*pnpm install && pnpm build/,
    );
  });
});
