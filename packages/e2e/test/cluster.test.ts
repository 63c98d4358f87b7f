import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { CFGD_BIN, cfg, freePort } from "./helpers/processes.js";
import { exampleRepo } from "./helpers/repo.js";

const SECRET = "e2e-cluster-secret-0123456789";
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
});

interface Member {
  id: string;
  url: string;
  dataDir: string;
  child?: ChildProcess;
}

function start(member: Member, peers: string): void {
  const port = new URL(member.url).port;
  const child = spawn(
    process.execPath,
    [
      CFGD_BIN,
      "--node-id",
      member.id,
      "--listen",
      `127.0.0.1:${port}`,
      "--peers",
      peers,
      "--data-dir",
      member.dataDir,
    ],
    { stdio: "ignore", env: { ...process.env, CFGD_CLUSTER_SECRET: SECRET } },
  );
  children.add(child);
  member.child = child;
}

async function kill9(member: Member): Promise<void> {
  const child = member.child!;
  child.kill("SIGKILL");
  if (child.exitCode === null && child.signalCode === null)
    await new Promise((done) => child.once("exit", done));
  children.delete(child);
}

let token = "";
async function call<T>(
  member: Member,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${member.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const leaderOf = (members: Member[]) =>
  until("a leader", async () => {
    for (const m of members) {
      const view = await call<{ leader: string | null; role: string }>(m, "GET", "/v1/cluster");
      if (view.body.role === "leader") return m;
    }
    return undefined;
  });

const revisionsOn = async (member: Member) =>
  (
    await call<{ items: { revision: number; git: { commit?: string } | null }[] }>(
      member,
      "GET",
      "/v1/projects/shop-prod/pushes?limit=1000&consistency=serializable",
    )
  ).body.items.map((r) => `${r.revision}:${r.git?.commit ?? ""}`);

describe("a 3-node cfgd cluster on loopback", () => {
  it("replicates a push made through a follower, survives kill -9 of the leader, and catches the node up", async () => {
    const members: Member[] = [];
    for (const id of ["n1", "n2", "n3"]) {
      members.push({
        id,
        url: `http://127.0.0.1:${await freePort()}`,
        dataDir: mkdtempSync(join(tmpdir(), `cfgd-${id}-`)),
      });
    }
    const peers = members.map((m) => `${m.id}=${m.url}`).join(",");
    for (const m of members) start(m, peers);
    for (const m of members)
      await until(`${m.id} ready`, async () => ((await fetch(`${m.url}/readyz`)).ok ? true : undefined));
    const { readFileSync } = await import("node:fs");
    token = readFileSync(join(members[0]!.dataDir, "admin-token"), "utf8").trim();

    let leader = await leaderOf(members);
    const follower = members.find((m) => m !== leader)!;
    expect((await call(follower, "POST", "/v1/projects", { name: "shop-prod" })).status).toBe(201);
    const repo = exampleRepo();
    const pushed = await cfg(["push", "--target", "prod", "--yes"], {
      cwd: repo.dir,
      env: { CFG_SERVER: follower.url, CFG_TOKEN: token },
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const expected = [`1:${repo.git("rev-parse", "HEAD")}`];
    for (const m of members)
      await until(`${m.id} has revision 1`, async () =>
        (await revisionsOn(m)).join() === expected.join() ? true : undefined,
      );

    // A stream of pushes through a follower while the leader is killed with SIGKILL.
    const acknowledged: number[] = [];
    const survivor = follower;
    let killed = false;
    for (let n = 1; n <= 40; n++) {
      if (n === 10) {
        await kill9(leader);
        killed = true;
      }
      const manifest = await call<{ revision: number }>(
        survivor,
        "GET",
        "/v1/projects/shop-prod/manifest",
      ).catch(() => null);
      if (manifest?.status !== 200) {
        await sleep(200);
        continue;
      }
      const answer = await call<{ revision: number }>(survivor, "POST", "/v1/projects/shop-prod/pushes", {
        baseRevision: manifest.body.revision,
        changes: ["a", "b", "c"].map((k) => ({ op: "put", key: `stream/${k}`, value: { n } })),
      }).catch(() => null);
      if (answer?.status === 200) acknowledged.push(answer.body.revision);
      else await sleep(200);
    }
    expect(killed).toBe(true);
    const live = members.filter((m) => m !== leader);
    const newLeader = await leaderOf(live);
    expect(newLeader).not.toBe(leader);
    expect(acknowledged.length).toBeGreaterThan(15);
    // Every acknowledged push is on every live node, whole.
    const last = acknowledged[acknowledged.length - 1]!;
    for (const m of live) {
      await until(`${m.id} applied revision ${last}`, async () =>
        (await revisionsOn(m)).length >= last ? true : undefined,
      );
      for (const revision of acknowledged) {
        const values = await Promise.all(
          ["a", "b", "c"].map(
            async (k) =>
              (
                await call<{ value: { n: number } }>(
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
    expect(await revisionsOn(live[0]!)).toEqual(await revisionsOn(live[1]!));

    // The killed node restarts from its files and catches up.
    start(leader, peers);
    await until(`${leader.id} caught up`, async () =>
      (await revisionsOn(leader)).join() === (await revisionsOn(newLeader)).join() ? true : undefined,
    );
    leader = await leaderOf(members);
    expect(members).toContain(leader);
  }, 120_000);
});
