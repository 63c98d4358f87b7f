/**
 * `cfg status` against a live 3-node cluster: printed once without a terminal (text and JSON), and
 * live in a real terminal (tmux): a member killed while the screen shows is marked down, the
 * screen keeps refreshing, and q quits.
 */
import { tmpdir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { TestCluster } from "./helpers/cluster.js";
import { CFG_BIN, cfg } from "./helpers/processes.js";
import { hasTmux, TmuxSession } from "./helpers/tmux.js";

const session = `cfg-status-${process.pid}`;
let cluster: TestCluster | undefined;
let tmux: TmuxSession | undefined;
afterAll(async () => {
  tmux?.kill();
  await cluster?.close();
});

interface Report {
  leader: string | null;
  members: { id: string; health: string; role: string | null; lag: number | null }[];
  pushes: { revision: number }[] | null;
}

describe("cfg status", () => {
  it("prints the cluster once without a terminal, with a killed member shown as down", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"]);
    const c = cluster;
    const leader = await c.leader();
    expect((await c.call(leader, "POST", "/v1/projects", { name: "shop" })).status).toBe(201);
    expect((await c.call(leader, "PUT", "/v1/projects/shop/configs/app", { port: 1 })).status).toBe(200);
    const env = { CFG_SERVER: leader.url, CFG_TOKEN: c.token };
    const json = await cfg(["status", "--project", "shop", "--output", "json"], { cwd: tmpdir(), env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as Report;
    expect(report.leader).toBe(leader.id);
    expect(report.members.map((m) => [m.id, m.health])).toEqual([
      ["n1", "ok"],
      ["n2", "ok"],
      ["n3", "ok"],
    ]);
    expect(report.pushes?.map((p) => p.revision)).toEqual([1]);

    const victim = c.members.find((m) => m !== leader)!;
    await c.kill9(victim);
    const text = await cfg(["status"], { cwd: tmpdir(), env });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/2\/3 members answering/);
    expect(text.stdout).toMatch(
      new RegExp(`${victim.id}\\s+http\\S+\\s+-\\s+-\\s+-\\s+-\\s+-\\s+\\S+\\s+down`),
    );
    c.start(victim);
    await c.until(`${victim.id} back`, async () =>
      (await fetch(`${victim.url}/readyz`)).ok ? true : undefined,
    );
  }, 90_000);

  it.skipIf(!hasTmux)(
    "refreshes live in a real terminal, marks a member killed meanwhile as down, and quits on q",
    async () => {
      const c = cluster!;
      const leader = await c.leader();
      const victim = c.members.find((m) => m !== leader)!;
      const command = [
        // A person at a terminal: ink renders live only outside CI (it checks CI and friends).
        "env -u CI -u GITHUB_ACTIONS -u CONTINUOUS_INTEGRATION",
        `CFG_SERVER=${leader.url}`,
        `CFG_TOKEN=${c.token}`,
        process.execPath,
        CFG_BIN,
        "status",
        "--project",
        "shop",
        "--interval",
        "0.5",
        "; echo EXITED:$?; sleep 60",
      ].join(" ");
      const screen = new TmuxSession(session, command, 160, 40);
      tmux = screen;
      await screen.waitFor("three members answering", (t) => /3\/3 members answering/.test(t));
      const before = await screen.waitFor(
        "the latest push",
        (t) => /Latest pushes of shop/.test(t) && /\n1\s+20\d\d-/.test(t),
      );
      expect(before).toMatch(new RegExp(`${leader.id} \\*`));
      await c.kill9(victim);
      const after = await screen.waitFor(`${victim.id} down`, (t) =>
        new RegExp(`${victim.id}\\s+http\\S+.*\\sdown`).test(t),
      );
      expect(after).toMatch(/2\/3 members answering/);
      // Still refreshing: the clock in the footer moves.
      const stamp = (t: string) => /updated (\d\d:\d\d:\d\d)/.exec(t)?.[1];
      const first = stamp(after);
      await screen.waitFor("a later refresh", (t) => stamp(t) !== undefined && stamp(t) !== first);
      screen.send("q");
      await screen.waitFor("the exit", (t) => /EXITED:0/.test(t));
    },
    60_000,
  );

  it("exits 1 when the cluster has no leader and 5 when no member answers", async () => {
    const c = cluster!;
    const alive = c.members.filter(
      (m) => m.child && m.child.exitCode === null && m.child.signalCode === null,
    );
    const keep = alive[0]!;
    for (const m of c.members) if (m !== keep) await c.kill9(m);
    const env = { CFG_SERVER: keep.url, CFG_TOKEN: c.token };
    // Once its leader is gone for an election timeout, the last node knows no leader.
    let result = await cfg(["status", "--output", "json"], { cwd: tmpdir(), env });
    for (let i = 0; i < 40 && result.code === 0; i++) {
      await sleep(250);
      result = await cfg(["status", "--output", "json"], { cwd: tmpdir(), env });
    }
    expect(result.code, result.stdout).toBe(1);
    expect((JSON.parse(result.stdout) as Report).leader).toBeNull();
    await c.kill9(keep);
    const none = await cfg(["status"], { cwd: tmpdir(), env });
    expect(none.code).toBe(5);
  }, 60_000);
});
