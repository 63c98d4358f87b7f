import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { type Member, TestCluster } from "./helpers/cluster.js";
import { cfg } from "./helpers/processes.js";

let cluster: TestCluster | undefined;
afterAll(async () => cluster?.close());

interface View {
  nodeId: string;
  role: string;
  leader: string | null;
  appliedIndex: number;
  snapshotIndex: number;
  firstLogIndex: number;
  members: { id: string; url: string; voter: boolean }[];
}

const keysOn = async (c: TestCluster, m: Member) =>
  (
    await c.call<{ items: { key: string; version: number }[] }>(
      m,
      "GET",
      "/v1/projects/shop/configs?consistency=serializable",
    )
  ).body.items.map((i) => `${i.key}@${i.version}`);

describe("cluster membership on loopback", () => {
  it("adds a node as a learner that catches up by snapshot and is promoted, removes the leader, and hands over on SIGTERM", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      args: ["--snapshot-count", "20", "--snapshot-catchup-entries", "5"],
    });
    const c = cluster;
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    expect((await c.call(follower, "POST", "/v1/projects", { name: "shop" })).status).toBe(201);
    for (let i = 0; i < 40; i++) {
      const put = await c.call(follower, "PUT", `/v1/projects/shop/configs/k${i % 10}`, { i });
      expect(put.status).toBe(200);
    }
    const before = await c.call<View>(leader, "GET", "/v1/cluster");
    expect(before.body.snapshotIndex).toBeGreaterThanOrEqual(20);
    expect(before.body.firstLogIndex).toBeGreaterThan(1);

    // Bad input changes nothing.
    const env = { CFG_SERVER: follower.url, CFG_TOKEN: c.token };
    const bad = await cfg(["cluster", "add", "N 4", "http://127.0.0.1:1"], { cwd: tmpdir(), env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/lowercase letters/);
    const dup = await c.call<{ code: string }>(follower, "POST", "/v1/cluster/members", {
      id: "n5",
      url: leader.url,
    });
    expect(dup.status).toBe(409);

    // cfg cluster add through a follower; the new node starts with --join.
    const n4 = await c.addMember("n4");
    const added = await cfg(["cluster", "add", "n4", n4.url], { cwd: tmpdir(), env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/Added n4 .* as a learner/);
    c.start(n4, { join: true });
    const promoted = await cfg(["cluster", "add", "n4", n4.url, "--wait", "30s"], { cwd: tmpdir(), env });
    // Adding it again is a no-op that waits for the promotion (or finds it done).
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout).toMatch(/n4 is a voting member/);
    await c.until("n4 is a voter", async () => {
      const view = await c.call<View>(follower, "GET", "/v1/cluster");
      return view.body.members.find((m) => m.id === "n4")?.voter ? true : undefined;
    });
    const expected = (await keysOn(c, leader)).join();
    await c.until("n4 has every key", async () =>
      (await keysOn(c, n4)).join() === expected ? true : undefined,
    );
    const n4View = (await c.call<View>(n4, "GET", "/v1/cluster")).body;
    // n4 never saw the compacted entries: it got them in a snapshot.
    expect(n4View.snapshotIndex).toBeGreaterThan(0);
    expect(n4View.members.map((m) => m.id)).toEqual(["n1", "n2", "n3", "n4"]);
    const metrics = await (await fetch(`${n4.url}/metrics`)).text();
    expect(metrics).toMatch(/^cfgd_snapshots_total\{event="installed"\} [1-9]/m);

    // Remove the leader itself, through n4: the others elect a new leader and go on.
    const old = await c.leader();
    const removed = await cfg(["cluster", "remove", old.id, "--yes"], {
      cwd: tmpdir(),
      env: { CFG_SERVER: n4.url, CFG_TOKEN: c.token },
    });
    expect(removed.code, removed.stderr).toBe(0);
    const rest = c.members.filter((m) => m !== old);
    const next = await c.leader(rest);
    expect(next).not.toBe(old);
    expect((await c.call(n4, "PUT", "/v1/projects/shop/configs/after-remove", { ok: true })).status).toBe(
      200,
    );
    for (const m of rest) {
      await c.until(`${m.id} has after-remove`, async () =>
        (await keysOn(c, m)).includes("after-remove@1") ? true : undefined,
      );
    }
    const view = (await c.call<View>(next, "GET", "/v1/cluster")).body;
    expect(view.members.map((m) => m.id).sort()).toEqual(rest.map((m) => m.id).sort());
    await c.kill9(old);

    // SIGTERM of the leader hands leadership over before the process exits.
    const exited = new Promise<number | null>((done) => next.child!.once("exit", (code) => done(code)));
    next.child!.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(readFileSync(`${next.dataDir}.log`, "utf8")).toMatch(/leadership handed over before shutdown/);
    const successor = await c.leader(rest.filter((m) => m !== next));
    expect(
      (await c.call(successor, "PUT", "/v1/projects/shop/configs/after-term", { ok: true })).status,
    ).toBe(200);
  }, 150_000);
});
