import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../raft/types.js";
import { ConfigService } from "../services/config-service.js";
import { StateMachine } from "../state/state-machine.js";
import { StateStore } from "../state/state-store.js";
import { openDatabase } from "../storage/sqlite.js";
import { SqliteRaftStorage } from "../storage/sqlite-raft-storage.js";
import { RaftNode } from "./raft-node.js";

const IDS = ["n1", "n2", "n3"];

/** Three drivers over real SQLite files, wired by an in-process network that can cut links. */
class TestCluster {
  readonly nodes = new Map<
    string,
    { node: RaftNode; service: ConfigService; machine: StateMachine; close(): void }
  >();
  readonly dirs = new Map(IDS.map((id) => [id, mkdtempSync(join(tmpdir(), `raftnode-${id}-`))]));
  readonly cut = new Set<string>();

  start(id: string): void {
    const dir = this.dirs.get(id)!;
    const raftDb = openDatabase(join(dir, "raft.db"), true);
    const stateDb = openDatabase(join(dir, "state.db"), false);
    const machine = new StateMachine(new StateStore(stateDb));
    const node = new RaftNode({
      id,
      raftDb,
      storage: new SqliteRaftStorage(raftDb, IDS),
      machine,
      tickMs: 10,
      timeoutMs: 800,
      transport: {
        send: (messages: readonly Message[]) => {
          for (const m of messages) {
            if (this.cut.has(m.from) || this.cut.has(m.to)) continue;
            setImmediate(() => this.nodes.get(m.to)?.node.receive(m));
          }
        },
      },
    });
    node.start();
    this.nodes.set(id, {
      node,
      machine,
      service: new ConfigService(node, machine),
      close: () => {
        void node.close();
        raftDb.close();
        stateDb.close();
      },
    });
  }

  stop(id: string): void {
    this.nodes.get(id)?.close();
    this.nodes.delete(id);
  }

  async leader(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const [id, { node }] of this.nodes) {
        if (node.raw.raft.role === "leader" && !this.cut.has(id)) return id;
      }
      await sleep(10);
    }
    throw new Error("no leader within the time limit");
  }

  async until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error("condition not reached in time");
      await sleep(10);
    }
  }

  closeAll(): void {
    for (const id of [...this.nodes.keys()]) this.stop(id);
  }
}

let cluster: TestCluster;
afterEach(() => cluster?.closeAll());

const push = (service: ConfigService, base: number, value: number) =>
  service.push("shop", { baseRevision: base, changes: [{ op: "put", key: "a", value }] }, "test");

describe("RaftNode: the driver under cfgd's state machine", () => {
  it("replicates writes to every node's state.db, and a follower answers not_leader", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    const result = await push(service, 0, 1);
    expect(result).toMatchObject({ revision: 1, applied: true });
    await cluster.until(() =>
      IDS.every((id) => cluster.nodes.get(id)!.machine.store.project("shop")?.revision === 1),
    );
    for (const id of IDS) {
      expect(cluster.nodes.get(id)!.service.getConfig("shop", "a").value).toBe(1);
    }
    const follower = IDS.find((id) => id !== leader)!;
    await expect(push(cluster.nodes.get(follower)!.service, 1, 2)).rejects.toMatchObject({
      code: "not_leader",
    });
    // A linearizable read on a follower goes through the leader's ReadIndex.
    expect(await cluster.nodes.get(follower)!.node.readBarrier()).toBeGreaterThanOrEqual(3);
  });

  it("restarts a stopped node from its files and catches it up", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    let leader = await cluster.leader();
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    const down = IDS.find((id) => id !== leader)!;
    cluster.stop(down);
    for (let i = 1; i <= 5; i++) await push(cluster.nodes.get(leader)!.service, i - 1, i);
    cluster.start(down);
    await cluster.until(() => cluster.nodes.get(down)!.machine.store.project("shop")?.revision === 5);
    leader = await cluster.leader();
    expect(cluster.nodes.get(down)!.service.getConfig("shop", "a").value).toBe(5);
  });

  it("a leader cut off from its quorum fails writes and reads with no_quorum, and nothing is reported done", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service, node } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    cluster.cut.add(leader);
    await expect(push(service, 0, 1)).rejects.toMatchObject({
      code: expect.stringMatching(/no_quorum|not_leader/),
    });
    await expect(node.readBarrier()).rejects.toMatchObject({
      code: expect.stringMatching(/no_quorum|not_leader/),
    });
    cluster.cut.clear();
    const next = await cluster.leader();
    await cluster.until(() =>
      IDS.every(
        (id) => cluster.nodes.get(id)!.node.appliedIndex() >= cluster.nodes.get(next)!.node.appliedIndex(),
      ),
    );
    // The majority's history has no revision from the cut-off leader unless it committed for real.
    const revision = cluster.nodes.get(next)!.machine.store.project("shop")!.revision;
    for (const id of IDS)
      expect(cluster.nodes.get(id)!.machine.store.project("shop")!.revision).toBe(revision);
  });
});
