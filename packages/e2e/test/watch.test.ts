/**
 * Apps reading and watching a real 3-node cluster: a watcher on a follower (the client library,
 * and `cfg watch`) sees every revision exactly once and in order while the leader is killed and
 * the watched node itself restarts; a blocking read returns as soon as the change is applied; and
 * an app keeps its last-known-good config when the whole cluster is down.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigClient } from "../../client/src/index.js";
import type { WatchEvent } from "../../shared/src/index.js";
import { type Member, TestCluster } from "./helpers/cluster.js";
import { CFG_BIN } from "./helpers/processes.js";

let cluster: TestCluster | undefined;
let apiKey = "";
const clients: ConfigClient[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const client of clients) client.close();
  await cluster?.close();
});

const alive = (m: Member) =>
  m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null;

describe("reading and watching configs from a 3-node cluster", () => {
  it("a watcher on a follower sees every revision once, in order, through a leader kill and its own node's restart", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"]);
    const c = cluster;
    const leader = await c.leader();
    expect((await c.call(leader, "POST", "/v1/projects", { name: "shop" })).status).toBe(201);
    const follower = c.members.find((m) => m !== leader)!;
    const others = c.members.filter((m) => m !== follower);

    // Apps read with a project API key (read-only, this project only).
    const created = await c.call<{ key: string }>(leader, "POST", "/v1/projects/shop/api-keys", {
      name: "app",
    });
    expect(created.status).toBe(201);
    apiKey = created.body.key;
    expect(apiKey).toMatch(/^cfgk_/);
    const events: WatchEvent[] = [];
    const client = new ConfigClient({
      nodes: [follower.url, ...others.map((m) => m.url)],
      apiKey,
      project: "shop",
      heartbeatMs: 500,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    clients.push(client);
    const connected: string[] = [];
    const watch = client.watch({
      afterRevision: 0,
      onEvent: (e) => events.push(e),
      onConnect: (n) => connected.push(n),
    });

    // `cfg watch` on the same follower, as a real process, printing JSON lines.
    const lines: string[] = [];
    const cli = spawn(
      process.execPath,
      [CFG_BIN, "watch", "--project", "shop", "--from-revision", "1", "--output", "json"],
      {
        env: { ...process.env, CFG_SERVER: follower.url, CFG_TOKEN: c.token, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(cli); // killed in afterAll even if the test fails before it stops it
    let buffered = "";
    cli.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      lines.push(...parts.filter(Boolean));
    });

    // A stream of single-key writes through whichever node answers: the leader is killed at the
    // 12th, the watched follower at the 24th (no quorum then) and restarted at the 30th. After
    // that the stream goes on until ten more are acknowledged (bounded), however long the
    // elections took on a busy machine.
    let acknowledged = 0;
    let afterRestart = 0;
    for (let n = 1; n <= 45 || (afterRestart < 10 && n <= 120); n++) {
      if (n === 12) await c.kill9(leader);
      if (n === 24) await c.kill9(follower);
      if (n === 30) c.start(follower);
      const targets = c.members.filter(alive);
      const target = targets[n % targets.length]!;
      const answer = await c
        .call(target, "PUT", `/v1/projects/shop/configs/k${n % 5}`, { n })
        .catch(() => null);
      if (answer?.status === 200) {
        acknowledged++;
        if (n > 30) afterRestart++;
      } else await sleep(150);
    }
    c.start(leader);
    expect(acknowledged).toBeGreaterThan(20);
    expect(afterRestart).toBeGreaterThanOrEqual(10);
    const newLeader = await c.leader();
    const history = async () =>
      (
        await c.call<{ revision: number; items: { revision: number }[] }>(
          newLeader,
          "GET",
          "/v1/projects/shop/pushes?limit=1000",
        )
      ).body;
    const { revision: last } = await history();
    await c.until(
      "the watcher has every revision",
      async () => (watch.revision >= last ? true : undefined),
      30_000,
    );
    await c.until(
      "cfg watch has every revision",
      async () => (lines.length >= last ? true : undefined),
      30_000,
    );
    const expected = Array.from({ length: last }, (_, i) => i + 1);
    expect(events.map((e) => e.revision)).toEqual(expected);
    expect(lines.map((line) => (JSON.parse(line) as WatchEvent).revision)).toEqual(expected);
    // Each event says what its revision changed, with the value.
    const record = (await history()).items.find((r) => r.revision === last)!;
    expect(events[last - 1]!.revision).toBe(record.revision);
    expect(events[last - 1]!.changes[0]!.value).toMatchObject({ n: expect.any(Number) });
    // The watch did move: it was connected more than once.
    expect(connected.length).toBeGreaterThan(1);
    cli.kill("SIGINT");
    watch.close();
  }, 180_000);

  it("a blocking read on a follower returns as soon as the change is applied there", async () => {
    const c = cluster!;
    await c.until("all members ready", async () => {
      for (const m of c.members) if (!(await fetch(`${m.url}/readyz`)).ok) return undefined;
      return true;
    });
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    // Ready means it knows a leader and has applied nearly all it knows is committed, not that it has caught
    // up: the old leader restarted just now may still be applying the last test's writes, and a
    // read of k1 made then would rightly be answered by one of those (a change after its index).
    const revision = async (m: Member, consistency: string) =>
      (await c.call<{ revision: number }>(m, "GET", `/v1/projects/shop?consistency=${consistency}`)).body
        .revision;
    const target = await revision(leader, "linearizable");
    await c.until("the follower has caught up", async () =>
      (await revision(follower, "serializable")) >= target ? true : undefined,
    );
    const first = await fetch(`${follower.url}/v1/read/shop/k1`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(first.status).toBe(200);
    const index = Number(first.headers.get("x-cfg-revision"));
    const started = performance.now();
    const blocking = fetch(`${follower.url}/v1/read/shop/k1?wait=20s&index=${index}`, {
      headers: { authorization: `Bearer ${apiKey}` },
    }).then((response) => ({ response, at: performance.now() }));
    await sleep(200);
    const put = await c.call(leader, "PUT", "/v1/projects/shop/configs/k1", { n: "blocking" });
    const acked = performance.now();
    expect(put.status).toBe(200);
    const { response, at } = await blocking;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { value: unknown }).value).toEqual({ n: "blocking" });
    console.log(
      `blocking read on ${follower.id} returned ${(at - acked).toFixed(1)} ms after the write was acknowledged by the leader (waited ${(at - started).toFixed(0)} ms of 20000)`,
    );
    expect(at - started).toBeLessThan(20_000);
  }, 60_000);

  it("an app keeps its last-known-good config when the whole cluster is down", async () => {
    const c = cluster!;
    const cacheFile = join(mkdtempSync(join(tmpdir(), "cfg-client-")), "shop.json");
    const nodes = c.members.map((m) => m.url);
    const app = new ConfigClient({ nodes, apiKey, project: "shop", cacheFile, timeoutMs: 1000 });
    clients.push(app);
    const fresh = await app.get("k1");
    expect(fresh).toMatchObject({ value: { n: "blocking" }, stale: false });
    // Conditional read: the same answer through If-None-Match.
    expect(await app.get("k1")).toMatchObject({ value: { n: "blocking" }, stale: false });
    app.close();
    for (const m of c.members) await c.kill9(m);
    // A restarted app, with every node down, starts from the file.
    const restarted = new ConfigClient({
      nodes,
      apiKey: c.token,
      project: "shop",
      cacheFile,
      timeoutMs: 500,
    });
    clients.push(restarted);
    expect(await restarted.get("k1")).toMatchObject({
      value: { n: "blocking" },
      version: fresh.version,
      stale: true,
    });
    await expect(restarted.get("never-read")).rejects.toThrow(/no node answered/);
  }, 60_000);
});
