import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../raft/types.js";
import { ConfigService } from "../services/config-service.js";
import { StateMachine } from "../state/state-machine.js";
import { StateStore } from "../state/state-store.js";
import { decodeRef, encodeCompactionPoint, hasImage, SnapshotStore } from "../storage/snapshot-store.js";
import { openDatabase } from "../storage/sqlite.js";
import { SqliteRaftStorage } from "../storage/sqlite-raft-storage.js";
import { StorageWorker } from "../storage/storage-worker.js";
import { RaftNode } from "./raft-node.js";

const IDS = ["n1", "n2", "n3"];

/**
 * Drivers over real SQLite files and snapshot stores, founded like cfgd founds a cluster, wired by
 * an in-process network that can cut links and that copies snapshot images like the HTTP transport.
 */
class TestCluster {
  readonly nodes = new Map<
    string,
    {
      node: RaftNode;
      service: ConfigService;
      machine: StateMachine;
      storage: SqliteRaftStorage;
      snapshots: SnapshotStore;
      close(): void;
    }
  >();
  readonly dirs = new Map<string, string>();
  readonly cut = new Set<string>();
  /** The next message this matches is lost (then it is cleared). */
  dropNext: ((m: Message) => boolean) | null = null;
  /** Every message any node handed to the network. */
  readonly sent: Message[] = [];
  /** Called right after a node has taken a message in, before it handles what the message asks. */
  delivered: ((m: Message, node: RaftNode) => void) | null = null;

  constructor(
    readonly options: {
      snapshotCount?: number;
      catchUpEntries?: number;
      promoteLag?: number;
      readyLag?: number;
      /** Automatic snapshots imaged on a storage worker, as cfgd makes them. */
      worker?: boolean;
      /** Entries per segment table of a new raft.db (small, so that compactions drop some). */
      segmentEntries?: number;
    } = {},
  ) {}

  dir(id: string): string {
    if (!this.dirs.has(id)) this.dirs.set(id, mkdtempSync(join(tmpdir(), `raftnode-${id}-`)));
    return this.dirs.get(id)!;
  }

  /** Start a node from its files; a new founder bootstraps, a new joiner starts empty. */
  start(id: string, joiner = false): void {
    const dir = this.dir(id);
    const raftDb = openDatabase(join(dir, "raft.db"), true);
    const stateDb = openDatabase(join(dir, "state.db"), false);
    // Group commit as cfgd runs it, so snapshots, installs, restarts and closes meet an open transaction.
    const machine = new StateMachine(new StateStore(stateDb), { commitEveryMs: 50 });
    const storage = new SqliteRaftStorage(raftDb, [], { segmentEntries: this.options.segmentEntries ?? 4 });
    if (storage.isEmpty() && !joiner) storage.bootstrap(IDS.map((n) => ({ id: n, url: `http://${n}.test` })));
    const snapshots = new SnapshotStore(dir);
    const worker = this.options.worker ? new StorageWorker() : undefined;
    const node: RaftNode = new RaftNode({
      id,
      raftDb,
      storage,
      machine,
      snapshots,
      ...(worker ? { storageWorker: worker } : {}),
      snapshotCount: this.options.snapshotCount,
      catchUpEntries: this.options.catchUpEntries,
      promoteLag: this.options.promoteLag ?? 5,
      readyLag: this.options.readyLag,
      tickMs: 10,
      timeoutMs: 800,
      transport: {
        send: (messages: readonly Message[]) => {
          this.sent.push(...messages);
          for (const m of messages) {
            if (this.cut.has(m.from) || this.cut.has(m.to)) continue;
            if (this.dropNext?.(m)) {
              this.dropNext = null;
              continue;
            }
            const to = this.nodes.get(m.to);
            if (m.type !== "snapshot") {
              setImmediate(() => {
                const target = this.nodes.get(m.to)?.node;
                target?.receive(m);
                if (target) this.delivered?.(m, target);
              });
              continue;
            }
            const ref = decodeRef(m.snapshot!.data);
            if (!to) {
              setImmediate(() => node.raw.reportSnapshot(m.to, false));
              continue;
            }
            to.snapshots.receive(snapshots.open(ref), ref).then(
              () => {
                to.node.receive(m);
                node.raw.reportSnapshot(m.to, true);
              },
              () => node.raw.reportSnapshot(m.to, false),
            );
          }
        },
      },
    });
    node.start();
    this.nodes.set(id, {
      node,
      machine,
      storage,
      snapshots,
      service: new ConfigService(node, machine),
      close: () => {
        void node.close();
        void worker?.close();
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
  it("replicates writes to every node's state.db, and a follower's write reaches the leader through Raft", async () => {
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
    const follower = cluster.nodes.get(IDS.find((id) => id !== leader)!)!;
    expect(await push(follower.service, 1, 2)).toMatchObject({ revision: 2, applied: true });
    expect(cluster.sent.filter((m) => m.type === "propose").map((m) => [m.from, m.to])).toEqual([
      [follower.node.id, leader],
    ]);
    // Answered once applied on the follower itself: it reads its own write at once.
    expect(follower.service.getConfig("shop", "a").value).toBe(2);
    // A linearizable read on a follower goes through the leader's ReadIndex.
    expect(await follower.node.readBarrier()).toBeGreaterThanOrEqual(4);
  });

  it("confirms linearizable reads in rounds of one ReadIndex, and asks again for a round whose request was lost", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    await push(service, 0, 1);
    const follower = cluster.nodes.get(IDS.find((id) => id !== leader)!)!;
    await cluster.until(() => follower.machine.store.project("shop")?.revision === 1);
    const asked = (from: number) =>
      cluster.sent.slice(from).filter((m) => m.type === "read-index" && m.from === follower.node.id);
    const before = cluster.sent.length;
    const committed = cluster.nodes.get(leader)!.node.raw.raft.log.committed;
    // 50 reads at once: the first one's round, then one round for the 49 that came while it was
    // on its way (a round asked before a read came cannot confirm it).
    const indexes = await Promise.all(Array.from({ length: 50 }, () => follower.node.readBarrier()));
    for (const index of indexes) expect(index).toBeGreaterThanOrEqual(committed);
    expect(asked(before)).toHaveLength(2);
    // A lost request: the round is asked again (after 500 ms), under a new id.
    const again = cluster.sent.length;
    cluster.dropNext = (m) => m.type === "read-index";
    const started = Date.now();
    expect(await follower.node.readBarrier()).toBeGreaterThanOrEqual(committed);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const ids = asked(again).map((m) => m.context);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it("reads waiting for the next round are refused with the round when the leader is lost, not at their timeout", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const id = IDS.find((n) => n !== leader)!;
    const follower = cluster.nodes.get(id)!;
    await cluster.until(() => follower.node.raw.raft.lead === leader);
    cluster.cut.add(id); // its round's request is lost, and it soon knows no leader
    const first = follower.node.readBarrier();
    const next = follower.node.readBarrier(); // waits for the next round
    first.catch(() => {});
    next.catch(() => {});
    await cluster.until(() => follower.node.raw.raft.lead === null);
    // The round is asked again after 500 ms and refused; the read behind it goes with it (its own
    // timeout, 800 ms, would say no_quorum).
    await expect(first).rejects.toMatchObject({ code: "not_leader" });
    await expect(next).rejects.toMatchObject({ code: "not_leader" });
  });

  it("a follower's write whose leader is lost fails at once as unknown (no_quorum), or not_leader with no leader", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    const id = IDS.find((n) => n !== leader)!;
    const follower = cluster.nodes.get(id)!;
    await cluster.until(() => follower.machine.store.project("shop") !== undefined);
    // The leader is cut off: the forwarded entry is lost, and the other two elect a new leader.
    cluster.cut.add(leader);
    const lost = push(follower.service, 0, 1);
    await expect(lost).rejects.toMatchObject({ code: "no_quorum" });
    await expect(lost).rejects.toThrow(/leader changed/);
    // Alone, with no leader known, a follower refuses at once.
    cluster.cut.add(id);
    await cluster.until(() => follower.node.raw.raft.lead === null);
    await expect(push(follower.service, 0, 1)).rejects.toMatchObject({ code: "not_leader" });
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

  it("is ready a batch behind what it knows to be committed, as under writes, and not ready far behind", async () => {
    cluster = new TestCluster({ readyLag: 40 });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    const id = IDS.find((n) => n !== leader)!;
    const follower = cluster.nodes.get(id)!;
    await cluster.until(() => follower.machine.store.project("shop") !== undefined);
    // What the follower says the moment an append with entries reaches it: it learns the new
    // commit index then, and applies up to it only once it has written the entries.
    const seen: { behind: number; ready: boolean }[] = [];
    cluster.delivered = (m, node) => {
      if (node.id !== id || m.type !== "append" || (m.entries?.length ?? 0) === 0) return;
      seen.push({ behind: node.raw.raft.log.committed - node.appliedIndex(), ready: node.isReady() });
    };
    const put = (n: number) => service.putKey("shop", `k${n}`, n, undefined, "test");
    for (let n = 0; n < 10; n++) await put(n);
    const near = seen.filter((s) => s.behind > 0);
    expect(near.length).toBeGreaterThan(0);
    for (const s of near) expect(s).toEqual({ behind: s.behind, ready: true });
    // Cut off while 100 writes commit without it, it learns of them all at once when it is back.
    cluster.cut.add(id);
    await Promise.all(Array.from({ length: 100 }, (_, n) => put(100 + n)));
    seen.length = 0;
    cluster.cut.delete(id);
    await cluster.until(() => follower.node.appliedIndex() >= cluster.nodes.get(leader)!.node.appliedIndex());
    expect(seen.some((s) => s.behind > 40 && !s.ready)).toBe(true);
    expect(follower.node.isReady()).toBe(true);
  });

  it("writes the hard state for its term and vote, not for a commit index; a restarted node counts what it applied as committed", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    for (let i = 1; i <= 3; i++) await push(cluster.nodes.get(leader)!.service, i - 1, i);
    const id = IDS.find((n) => n !== leader)!;
    const follower = cluster.nodes.get(id)!;
    await cluster.until(() => follower.machine.store.project("shop")?.revision === 3);
    const applied = follower.machine.appliedIndex;
    // Neither the commit of the last entry (an append without entries) nor the commit indexes
    // that came with the entries were written: only the term and vote of the election.
    const { hardState } = follower.storage.initialState();
    expect(hardState.commit).toBeLessThan(applied - 3);
    expect(hardState.term).toBe(follower.node.raw.raft.term);
    expect(hardState.vote).toBe(follower.node.raw.raft.vote);
    cluster.stop(id);
    cluster.cut.add(id); // what it knows at start comes from its own files
    cluster.start(id);
    const restarted = cluster.nodes.get(id)!;
    expect(restarted.node.raw.raft.log.committed).toBe(applied);
    expect(restarted.service.getConfig("shop", "a").value).toBe(3);
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

  it("a node down while the log was compacted catches up by snapshot, and keeps applying after it", async () => {
    cluster = new TestCluster({ snapshotCount: 10, catchUpEntries: 2 });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    const down = IDS.find((id) => id !== leader)!;
    cluster.stop(down);
    for (let i = 1; i <= 30; i++) await push(service, i - 1, i);
    const leaderStorage = cluster.nodes.get(leader)!.storage;
    // Each member snapshots at its own point of every 10 entries (snapshotDue): the leader's
    // latest is one of the last 10 of the 30-odd entries (recorded once state.db is flushed).
    await cluster.until(() => leaderStorage.snapshot().meta.index >= 20);
    // The entries the stopped node needs next are gone from the leader's log, and the segment
    // tables behind its start from raft.db soon after (one dropped every 25 ms):
    // what is left starts in the segment of 4 that holds the start.
    expect(leaderStorage.firstIndex()).toBeGreaterThan(10);
    const raftDb = openDatabase(join(cluster.dir(leader), "raft.db"), true);
    const firstStored = () => {
      const tables = raftDb
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'entries_[0-9]*'")
        .pluck()
        .all() as string[];
      return Math.min(
        ...tables.map((t) => raftDb.prepare(`SELECT MIN(idx) FROM ${t}`).pluck().get() as number),
      );
    };
    await cluster.until(() => firstStored() >= Math.floor((leaderStorage.firstIndex() - 1) / 4) * 4);
    raftDb.close();
    cluster.start(down);
    await cluster.until(() => cluster.nodes.get(down)!.machine.store.project("shop")?.revision === 30);
    const caughtUp = cluster.nodes.get(down)!;
    expect(caughtUp.storage.snapshot().meta.index).toBeGreaterThan(0);
    expect(caughtUp.service.getConfig("shop", "a").value).toBe(30);
    expect(caughtUp.machine.store.members().map((m) => m.id)).toEqual(IDS);
    await push(service, 30, 31);
    await cluster.until(() => caughtUp.machine.store.project("shop")?.revision === 31);
    const history = (id: string) => cluster.nodes.get(id)!.service.revisions("shop", undefined, 100);
    expect(history(down)).toEqual(history(leader));
  });

  it("automatic snapshots are compaction points with no image; a node behind the log gets an image made then, on the storage worker", async () => {
    cluster = new TestCluster({ snapshotCount: 10, catchUpEntries: 2, worker: true });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service, storage, snapshots, machine } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    const down = IDS.find((id) => id !== leader)!;
    cluster.stop(down);
    for (let i = 1; i <= 40; i++) await push(service, i - 1, i);
    await cluster.until(() => storage.snapshot().meta.index >= 25);
    const point = storage.snapshot();
    expect(hasImage(point.data)).toBe(false);
    expect(point.meta.confState.voters.sort()).toEqual(IDS);
    expect(storage.firstIndex()).toBe(point.meta.index - 2 + 1);
    expect(readdirSync(snapshots.dir).filter((name) => name.startsWith("snap-"))).toEqual([]);
    // state.db was committed at the point before it was recorded: another connection sees it.
    const onDisk = new Database(join(cluster.dir(leader), "state.db"), { readonly: true });
    try {
      const committed = Number(onDisk.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get());
      expect(committed).toBeGreaterThanOrEqual(point.meta.index);
      expect(committed).toBeLessThanOrEqual(machine.appliedIndex);
    } finally {
      onDisk.close();
    }
    // The stopped node needs entries behind the log's start: the leader images state.db as
    // applied now, records that as its snapshot, and sends it.
    cluster.start(down);
    const caughtUp = cluster.nodes.get(down)!;
    await cluster.until(() => caughtUp.machine.store.project("shop")?.revision === 40);
    const sent = caughtUp.storage.snapshot();
    expect(hasImage(sent.data)).toBe(true);
    expect(sent.meta.index).toBeGreaterThanOrEqual(point.meta.index);
    const ref = decodeRef(sent.data);
    expect(ref.index).toBe(sent.meta.index);
    const image = new Database(caughtUp.snapshots.path(ref.index), { readonly: true, fileMustExist: true });
    try {
      expect(Number(image.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get())).toBe(
        ref.index,
      );
    } finally {
      image.close();
    }
    expect(caughtUp.service.revisions("shop", undefined, 100)).toEqual(
      service.revisions("shop", undefined, 100),
    );
  });

  it("an image recorded while an earlier compaction point's record is still being flushed is kept", async () => {
    cluster = new TestCluster({ snapshotCount: 10, catchUpEntries: 2 });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service, storage, snapshots, node } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    // Every flush of raft.db takes 300 ms from now on, the record of a compaction point's too.
    const wal = (node as unknown as { walSync: { sync(): Promise<void> } }).walSync;
    const sync = wal.sync.bind(wal);
    wal.sync = () => sync().then(() => sleep(300));
    const before = storage.snapshot().meta.index;
    let base = 0;
    while (storage.snapshot().meta.index === before) await push(service, base, ++base);
    expect(hasImage(storage.snapshot().data)).toBe(false);
    // Its older images are pruned once that record is on disk; this image is newer.
    const { index } = node.snapshot();
    expect(hasImage(storage.snapshot().data)).toBe(true);
    await sleep(700);
    expect(storage.snapshot().meta.index).toBe(index);
    expect(snapshots.has(decodeRef(storage.snapshot().data))).toBe(true);
  });

  it("a crash after raft.db took a snapshot but before state.db installed it is repaired at start", async () => {
    cluster = new TestCluster({ snapshotCount: 5, catchUpEntries: 0 });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const { service, node } = cluster.nodes.get(leader)!;
    await service.createProject("shop", "test");
    const down = IDS.find((id) => id !== leader)!;
    cluster.stop(down);
    for (let i = 1; i <= 12; i++) await push(service, i - 1, i);
    // An image of the leader's state now (as made for a follower behind the log).
    node.snapshot();
    const image = cluster.nodes.get(leader)!.storage.snapshot();
    expect(hasImage(image.data)).toBe(true);
    // Play the first half of an install on the stopped node: the image on disk, raft.db moved on.
    const ref = decodeRef(image.data);
    const dir = cluster.dir(down);
    await new SnapshotStore(dir).receive(cluster.nodes.get(leader)!.snapshots.open(ref), ref);
    const raftDb = openDatabase(join(dir, "raft.db"), true);
    new SqliteRaftStorage(raftDb).applySnapshot(image);
    raftDb.close();
    cluster.start(down);
    const restarted = cluster.nodes.get(down)!;
    expect(restarted.machine.appliedIndex).toBe(image.meta.index);
    expect(restarted.machine.store.project("shop")!.revision).toBe(12);
    await push(service, 12, 13);
    await cluster.until(() => restarted.machine.store.project("shop")?.revision === 13);
  });

  it("refuses to start where state.db is behind a compaction point (it lost writes the disk acknowledged)", async () => {
    cluster = new TestCluster();
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    const down = IDS.find((id) => id !== leader)!;
    await cluster.until(() => cluster.nodes.get(down)!.machine.store.project("shop") !== undefined);
    const applied = cluster.nodes.get(down)!.machine.appliedIndex;
    cluster.stop(down);
    // As if state.db had lost its last writes: raft.db's compaction point lies past it.
    const raftDb = openDatabase(join(cluster.dir(down), "raft.db"), true);
    new SqliteRaftStorage(raftDb).applySnapshot({
      meta: { index: applied + 10, term: 1, confState: { voters: IDS, learners: [] } },
      data: encodeCompactionPoint(applied + 10),
    });
    raftDb.close();
    expect(() => cluster.start(down)).toThrow(/behind the log's compaction point .*Restore it from a backup/);
  });

  it("a learner that never answers is not promoted, however short the log", async () => {
    cluster = new TestCluster({ promoteLag: 100 });
    for (const id of IDS) cluster.start(id);
    const leader = await cluster.leader();
    const node = cluster.nodes.get(leader)!.node;
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    // The log (a handful of entries) is shorter than the promotion lag: only the learner's silence
    // keeps it from being promoted.
    await node.addMember("n4", "http://n4.test", true);
    await sleep(300); // many ticks of 10 ms
    expect(node.raw.raft.learners.has("n4")).toBe(true);
    expect(node.raw.raft.voters.has("n4")).toBe(false);
    await expect(node.addMember("n4", "http://n4.test", true)).resolves.toBeUndefined();
    cluster.start("n4", true);
    await cluster.until(() => node.raw.raft.voters.has("n4"), 10_000);
  });

  it("a new node joins as a learner, is promoted once caught up, and a removed leader is replaced", async () => {
    cluster = new TestCluster({ snapshotCount: 8, catchUpEntries: 2 });
    for (const id of IDS) cluster.start(id);
    let leader = await cluster.leader();
    await cluster.nodes.get(leader)!.service.createProject("shop", "test");
    for (let i = 1; i <= 20; i++) await push(cluster.nodes.get(leader)!.service, i - 1, i);
    await cluster.nodes.get(leader)!.node.addMember("n4", "http://n4.test", true);
    expect(cluster.nodes.get(leader)!.node.raw.raft.learners.has("n4")).toBe(true);
    cluster.start("n4", true);
    await cluster.until(() => cluster.nodes.get(leader)!.node.raw.raft.voters.has("n4"), 10_000);
    const n4 = cluster.nodes.get("n4")!;
    await cluster.until(() => n4.machine.store.project("shop")?.revision === 20);
    expect(n4.machine.store.members().map((m) => [m.id, m.url])).toContainEqual(["n4", "http://n4.test"]);
    // Four voters: a quorum of three. Remove the leader itself; the rest elect a new one.
    await cluster.nodes.get(leader)!.node.removeMember(leader);
    const old = leader;
    cluster.stop(old);
    leader = await cluster.leader(10_000);
    expect([...cluster.nodes.get(leader)!.node.raw.raft.voters].sort()).toEqual(
      ["n1", "n2", "n3", "n4"].filter((id) => id !== old),
    );
    await push(cluster.nodes.get(leader)!.service, 20, 21);
    await cluster.until(() => n4.machine.store.project("shop")?.revision === 21);
    await expect(cluster.nodes.get(leader)!.node.removeMember(old)).rejects.toMatchObject({
      code: "not_found",
    });
  });
});
