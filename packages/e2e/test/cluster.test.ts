import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { type Member, SECRET, TestCluster } from "./helpers/cluster.js";
import { cfg } from "./helpers/processes.js";
import { exampleRepo } from "./helpers/repo.js";

let cluster: TestCluster | undefined;
afterAll(async () => cluster?.close());

const revisionsOn = async (c: TestCluster, member: Member) =>
  (
    await c.call<{ items: { revision: number; git: { commit?: string } | null }[] }>(
      member,
      "GET",
      "/v1/projects/shop-prod/pushes?limit=1000&consistency=serializable",
    )
  ).body.items.map((r) => `${r.revision}:${r.git?.commit ?? ""}`);

describe("a 3-node cfgd cluster on loopback", () => {
  it("replicates a push made through a follower, survives kill -9 of the leader, and catches the node up", async () => {
    // Small snapshot intervals so that the log is compacted while a node is down.
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      args: ["--snapshot-count", "50", "--snapshot-catchup-entries", "5"],
    });
    const c = cluster;
    let leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    expect((await c.call(follower, "POST", "/v1/projects", { name: "shop-prod" })).status).toBe(201);
    const repo = exampleRepo();
    const pushed = await cfg(["push", "--target", "prod", "--yes"], {
      cwd: repo.dir,
      env: { CFG_SERVER: follower.url, CFG_TOKEN: c.token },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const expected = [`1:${repo.git("rev-parse", "HEAD")}`].join();
    for (const m of c.members) {
      await c.until(`${m.id} has revision 1`, async () =>
        (await revisionsOn(c, m)).join() === expected ? true : undefined,
      );
    }
    // The follower sent the project's creation on to the leader over HTTP; the push it took
    // itself and proposed through Raft (its entry reached the leader on the peer stream).
    const forwarded = (await (await fetch(`${follower.url}/metrics`)).text())
      .split("\n")
      .filter((line) => line.startsWith("cfgd_forwarded_requests_total{"))
      .reduce((sum, line) => sum + Number(line.split(" ").pop()), 0);
    expect(forwarded).toBe(1);

    // A stream of pushes through a follower while the leader is killed with SIGKILL.
    const acknowledged: number[] = [];
    let killedAt = 0;
    for (let n = 1; n <= 40; n++) {
      if (n === 10) {
        killedAt = (await c.call<{ appliedIndex: number }>(leader, "GET", "/v1/cluster")).body.appliedIndex;
        await c.kill9(leader);
      }
      const manifest = await c
        .call<{ revision: number }>(follower, "GET", "/v1/projects/shop-prod/manifest")
        .catch(() => null);
      if (manifest?.status !== 200) {
        await sleep(200); // an election is under way
        continue;
      }
      const answer = await c
        .call<{ revision: number }>(follower, "POST", "/v1/projects/shop-prod/pushes", {
          baseRevision: manifest.body.revision,
          changes: ["a", "b", "c"].map((k) => ({ op: "put", key: `stream/${k}`, value: { n } })),
        })
        .catch(() => null);
      if (answer?.status === 200) acknowledged.push(answer.body.revision);
      else await sleep(200);
    }
    const live = c.members.filter((m) => m !== leader);
    const newLeader = await c.leader(live);
    expect(acknowledged.length).toBeGreaterThan(15);
    // Every acknowledged push is on every live node, whole.
    const last = acknowledged[acknowledged.length - 1]!;
    for (const m of live) {
      await c.until(`${m.id} applied revision ${last}`, async () =>
        (await revisionsOn(c, m)).length >= last ? true : undefined,
      );
      for (const revision of acknowledged) {
        const values = await Promise.all(
          ["a", "b", "c"].map(
            async (k) =>
              (
                await c.call<{ value: { n: number } }>(
                  m,
                  "GET",
                  `/v1/projects/shop-prod/configs/stream/${k}?revision=${revision}&consistency=serializable`,
                )
              ).body.value.n,
          ),
        );
        expect(new Set(values).size).toBe(1);
      }
    }
    expect(await revisionsOn(c, live[0]!)).toEqual(await revisionsOn(c, live[1]!));

    // Snapshot the live nodes now (cfg cluster snapshot): their logs no longer hold what the killed
    // node lacks, so it can only catch up by snapshot.
    for (const m of live) {
      const snap = await cfg(["cluster", "snapshot", "--output", "json"], {
        cwd: repo.dir,
        env: { CFG_SERVER: m.url, CFG_TOKEN: c.token },
      });
      expect(snap.code, snap.stderr).toBe(0);
      expect(JSON.parse(snap.stdout).compactedTo).toBeGreaterThan(killedAt + 1);
    }
    // The killed node restarts from its files and catches up.
    c.start(leader);
    await c.until(`${leader.id} caught up`, async () =>
      (await revisionsOn(c, leader)).join() === (await revisionsOn(c, newLeader)).join() ? true : undefined,
    );
    const restarted = await c.call<{ snapshotIndex: number }>(leader, "GET", "/v1/cluster");
    expect(restarted.body.snapshotIndex).toBeGreaterThan(killedAt);
    leader = await c.leader();
    expect(c.members).toContain(leader);
    // The cluster secret and the admin token travel on every Raft and forwarded request, and
    // never reach a log.
    for (const m of c.members) {
      const log = readFileSync(`${m.dataDir}.log`, "utf8");
      expect(log.length).toBeGreaterThan(0);
      expect(log).not.toContain(SECRET);
      expect(log).not.toContain(c.token);
    }
  }, 120_000);
});
