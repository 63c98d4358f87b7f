import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "./helpers/cluster.js";
import { cfg } from "./helpers/processes.js";

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const pushOne = (c: TestCluster, member: TestCluster["members"][number], base: number, n: number) =>
  c.call<{ revision: number; code?: string }>(member, "POST", "/v1/projects/p/pushes", {
    baseRevision: base,
    changes: [{ op: "put", key: "k", value: { n } }],
  });

describe("cluster faults (real processes, cutting proxies on every link)", () => {
  it("the minority side of a partition commits nothing and says no_quorum; the majority goes on; all converge", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"]);
    const c = cluster;
    const leader = await c.leader();
    expect((await c.call(leader, "POST", "/v1/projects", { name: "p" })).status).toBe(201);
    const others = c.members.filter((m) => m !== leader);
    // The old leader alone on one side.
    c.partition([leader], others);
    const refused = await pushOne(c, leader, 0, 1);
    expect([421, 503]).toContain(refused.status);
    expect(["no_quorum", "not_leader", "unavailable"]).toContain(refused.body.code);
    const majorityLeader = await c.leader(others);
    const accepted = await pushOne(c, majorityLeader, 0, 2);
    expect(accepted.status).toBe(200);
    // The cut-off node soon says it is not ready (no live leader), so a load balancer drains it.
    const readyz = async (m: (typeof c.members)[number]) => (await fetch(`${m.url}/readyz`)).status;
    await c.until("the cut-off node is not ready", async () =>
      (await readyz(leader)) === 503 ? true : undefined,
    );
    expect(await readyz(majorityLeader)).toBe(200);
    c.heal();
    await c.until("the healed node is ready", async () =>
      (await readyz(leader)) === 200 ? true : undefined,
    );
    for (const m of c.members) {
      await c.until(`${m.id} converged`, async () => {
        const entry = await c.call<{ value: { n: number } }>(
          m,
          "GET",
          "/v1/projects/p/configs/k?consistency=serializable",
        );
        return entry.status === 200 && entry.body.value.n === 2 ? true : undefined;
      });
    }
    const histories = await Promise.all(
      c.members.map(async (m) =>
        JSON.stringify(
          (await c.call<{ items: unknown[] }>(m, "GET", "/v1/projects/p/pushes?consistency=serializable"))
            .body.items,
        ),
      ),
    );
    expect(new Set(histories).size).toBe(1);
  }, 120_000);

  it("cfg cluster members shows the leader, and cfg cluster transfer moves it (through any node)", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"]);
    const c = cluster;
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    const env = { CFG_SERVER: follower.url, CFG_TOKEN: c.token };
    const members = await cfg(["cluster", "members", "--output", "json"], { cwd: follower.dataDir, env });
    expect(members.code, members.stderr).toBe(0);
    expect(JSON.parse(members.stdout)).toMatchObject({
      leader: leader.id,
      members: expect.arrayContaining([expect.objectContaining({ id: "n1", voter: true })]),
    });
    const text = await cfg(["cluster", "members"], { cwd: follower.dataDir, env });
    expect(text.stdout).toMatch(new RegExp(`${leader.id} +http://\\S+ +voter +\\*`));
    const target = c.members.find((m) => m !== leader && m !== follower)!;
    const moved = await cfg(["cluster", "transfer", target.id], { cwd: follower.dataDir, env });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`Leadership moved to ${target.id}.`);
    expect((await c.leader()).id).toBe(target.id);
    const bad = await cfg(["cluster", "transfer", "n9"], { cwd: follower.dataDir, env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("must name a voting member");
  }, 120_000);

  it("a 5-node cluster keeps working with two nodes down", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3", "n4", "n5"]);
    const c = cluster;
    const leader = await c.leader();
    expect((await c.call(leader, "POST", "/v1/projects", { name: "p" })).status).toBe(201);
    const down = c.members.filter((m) => m !== leader).slice(0, 2);
    for (const m of down) await c.kill9(m);
    const up = c.members.filter((m) => !down.includes(m));
    let base = 0;
    for (let n = 1; n <= 5; n++) {
      const member = up[n % up.length]!;
      const answer = await pushOne(c, member, base, n);
      expect(answer.status, `push ${n} through ${member.id}: ${JSON.stringify(answer.body)}`).toBe(200);
      base = answer.body.revision;
    }
    for (const m of up) {
      await c.until(`${m.id} at revision ${base}`, async () => {
        const info = await c.call<{ revision: number }>(m, "GET", "/v1/projects/p?consistency=serializable");
        return info.body.revision === base ? true : undefined;
      });
    }
  }, 120_000);
});
