/**
 * The node driver: runs the pure Raft core against raft.db (SqliteRaftStorage), the state machine
 * (state.db) and a Transport, owns the clock, and implements the Proposer port so that the HTTP
 * layer writes through Raft exactly as it writes through the single-node log.
 *
 * Per Ready batch: as leader, send the appends that carry new entries first (thesis 10.2.1, see
 * Ready.leaderMaySendFirst); write hard state, entries and snapshot in ONE raft.db transaction and
 * flush it (group commit; off the event loop through WalSync, so requests keep arriving and make
 * the next batch; nothing is written when only the commit index moved); then send the rest, apply committed
 * entries in one state.db transaction with the applied index, resolve the proposers and
 * linearizable reads that were waiting, and advance. Messages that only carry a new commit index
 * wait until the leader's own clients are answered; to a follower that forwarded nothing lately
 * they wait up to LAZY_NOTICE_MS for the next append to carry the news instead.
 *
 * Snapshots: every `snapshotCount` applied entries, at this member's own point of them so that
 * members do not compact at once (snapshot-schedule.ts), the driver makes state.db durable at the
 * applied index, records that index in raft.db (a compaction point, no image) and compacts the log
 * up to `catchUpEntries` behind it, so a follower a little behind still catches up from the log;
 * for one far behind, an image of state.db (SnapshotStore) is made then and sent.
 * A snapshot from the leader arrives as a file (the transport stores and checks it before it
 * steps the message); Ready.snapshot is persisted in raft.db first, then installed in state.db in
 * one transaction. A crash between the two leaves applied < the snapshot index; the constructor
 * sees that and installs again.
 *
 * Membership: conf-change entries carry the member's URL, which is applied to state.db with the
 * change, so it travels in snapshots; `onMembers` tells the transport. A learner added with
 * `promote` is made a voter by whichever node leads once it has caught up.
 */
import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import { CfgError } from "@cfguardian/shared";
import { type Link, type Span, trace } from "@opentelemetry/api";
import type { Proposer } from "../log/proposer.js";
import type { Logger } from "../logger.js";
import { type DriverObserver, noObserver } from "../observability/driver-observer.js";
import { tracer } from "../observability/tracer.js";
import { ProposalDroppedError } from "../raft/errors.js";
import { RawNode } from "../raft/raw-node.js";
import type { ConfChange, ConfState, Entry, Message, Ready, Snapshot } from "../raft/types.js";
import type { ApplyOutcome, Command } from "../state/commands.js";
import type { BatchEntry, StateMachine } from "../state/state-machine.js";
import type { WalCheckpoints } from "../storage/checkpoints.js";
import {
  decodeRef,
  encodeCompactionPoint,
  encodeRef,
  hasImage,
  type SnapshotStore,
} from "../storage/snapshot-store.js";
import type { Db } from "../storage/sqlite.js";
import type { SqliteRaftStorage } from "../storage/sqlite-raft-storage.js";
import type { StorageWorker } from "../storage/storage-worker.js";
import { WalSync } from "../storage/wal-sync.js";
import { snapshotDue, snapshotPhase } from "./snapshot-schedule.js";
import type { Transport } from "./transport.js";

/**
 * How many committed entries a member may have left to apply and still be ready (isReady). Under
 * writes every member is a batch or two behind at any moment: the entries of the Ready being
 * flushed, committed as it arrived, are applied once the flush is done. Asked for all of them, a
 * follower's /readyz answered 503 to one probe in five under 64 write connections, and a load
 * balancer would take it out of service for that. A member replaying its log, or catching up
 * after a partition, is thousands behind. (etcd refuses requests beyond a gap of 5,000.)
 */
const READY_LAG = 1_000;
/** What dropping a segment of the compacted log adds to raft.db's WAL, for its checkpoint schedule: about ten pages. */
const RECLAIM_WAL_BYTES = 10 * 4096;
/** How far apart the segments of a compacted log are dropped (see reclaimLog). */
const RECLAIM_EVERY_MS = 25;

export interface RaftNodeOptions {
  id: string;
  raftDb: Db;
  /** raft.db's checkpoints, mostly on a worker thread; without, on this one (as SQLite does). */
  raftCheckpoints?: WalCheckpoints;
  /** Where images of state.db for followers are made; without, they are made on this thread. */
  storageWorker?: StorageWorker;
  storage: SqliteRaftStorage;
  machine: StateMachine;
  transport: Transport;
  tickMs?: number;
  electionTick?: number;
  /** How long a proposal or a read may wait before it fails with no_quorum (outcome unknown). */
  timeoutMs?: number;
  random?: () => number;
  /** Where state.db images live; without it the node never compacts its log (it could not serve a follower behind it). */
  snapshots?: SnapshotStore;
  /** Applied entries between automatic snapshots (default 100,000, etcd's). */
  snapshotCount?: number;
  /** Entries kept in the log behind a snapshot for followers that are a little behind (5,000). */
  catchUpEntries?: number;
  /** A learner within this many entries of the commit index counts as caught up (default 100). */
  promoteLag?: number;
  /**
   * A member with at most this many of the entries it knows to be committed not yet applied
   * counts as ready (default READY_LAG).
   */
  readyLag?: number;
  /** Called with every member's URL after a change of membership is applied or installed. */
  onMembers?: (members: Member[]) => void;
  logger?: Logger;
  observer?: DriverObserver;
}

export interface Member {
  id: string;
  url: string;
  /** Wanted as a voter: the leader promotes this learner once it has caught up. */
  promote: boolean;
}

/** What a conf change's `context` carries. */
interface ConfContext {
  url?: string;
  promote?: boolean;
}

const parseContext = (cc: ConfChange): ConfContext => {
  if (!cc.context) return {};
  try {
    return JSON.parse(cc.context) as ConfContext;
  } catch {
    return {};
  }
};

/**
 * How long a commit notice nobody waits on may wait for an append to ride (see finish). Under 64
 * write connections a new append comes 1-4 ms after a commit here: at 1 ms most notices still went
 * alone (a socket write and an answer each); at 5 ms they ride, and a follower applies more
 * entries at once. A follower that starts waiting (it forwards a proposal or a read) gets its
 * notice at once (receive).
 */
const LAZY_NOTICE_MS = 5;
/** How long after a forwarded proposal or read a follower's notices go at once. */
const EAGER_MS = 1_000;

/** An append without entries or a heartbeat for no read: it only carries the commit index. */
const isNotice = (message: Message): boolean =>
  (message.type === "append" && (message.entries?.length ?? 0) === 0) ||
  (message.type === "heartbeat" && message.context === undefined);

/**
 * Linearizable reads are confirmed in rounds, as etcd's read loop does: every read that arrives
 * while a round is on its way waits for the next one, and one ReadIndex (one heartbeat round from
 * the leader) confirms them all. A read per ReadIndex cost the leader two heartbeats, and each
 * follower a heartbeat and its answer, per read. A round not confirmed within READ_RETRY_MS (its
 * message lost, the leader changed) is asked again under a new id; either answer serves it.
 */
const READ_RETRY_MS = 500;

interface ReadWaiter {
  resolve(index: number): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  round: ReadRound | null;
}

interface ReadRound {
  ids: string[];
  waiters: Set<ReadWaiter>;
  retry: NodeJS.Timeout | null;
}

interface Waiter {
  resolve(outcome: ApplyOutcome): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** The proposing request's span (cfgd.propose), to mark when its entry is applied. */
  span: Span | undefined;
  /** Proposed on a follower: the leader its entry was forwarded to. */
  forwardedTo: string | null;
}

/**
 * Flush what SQLite has written of a database in WAL mode to disk (its -wal file, off this thread):
 * every transaction committed before the call is then durable, whether still in the WAL or copied
 * into the database file by a checkpoint, which syncs that file before the WAL starts over.
 */
async function flushWal(db: Db): Promise<void> {
  if (db.memory) return;
  const wal = await open(`${db.name}-wal`, "r");
  try {
    await wal.datasync();
  } finally {
    await wal.close();
  }
}

export class RaftNode implements Proposer {
  readonly id: string;
  readonly raw: RawNode;
  private readonly options: RaftNodeOptions;
  private readonly waiters = new Map<string, Waiter>();
  /** Linearizable reads that came after the round in flight was asked for: the next round's. */
  private nextReads = new Set<ReadWaiter>();
  /** The round of ReadIndex asked for and not yet confirmed by the leader (one at a time). */
  private readRound: ReadRound | null = null;
  /** Every round not yet served, by each request id it was asked with. */
  private readonly rounds = new Map<string, ReadRound>();
  private readonly readyReads: { index: number; requestId: string }[] = [];
  private readonly persist: (ready: Ready) => void;
  private readonly observer: DriverObserver;
  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  /** A Ready's write is being flushed to disk (WalSync); the next Ready waits for it. */
  private persisting = false;
  private readonly walSync: WalSync | null;
  private notices: Message[] = [];
  /** Notices for followers nobody waits on: they ride the next append, or leave after LAZY_NOTICE_MS. */
  private lazyNotices = new Map<string, Message>();
  private lazyTimer: NodeJS.Timeout | null = null;
  /** Followers that forwarded a proposal or a read lately (Date.now() until which they wait on news). */
  private readonly eagerUntil = new Map<string, number>();
  private stopped = false;

  constructor(options: RaftNodeOptions) {
    this.options = options;
    this.id = options.id;
    this.observer = options.observer ?? noObserver;
    const { storage, machine } = options;
    const snap = storage.snapshot();
    if (snap.meta.index > machine.appliedIndex) {
      // raft.db took a snapshot but state.db did not get to install it before a crash.
      if (!hasImage(snap.data))
        throw new Error(
          `state.db is at applied index ${machine.appliedIndex}, behind the log's compaction point ${snap.meta.index}, ` +
            "which state.db had been made durable at: this data directory lost writes the disk had acknowledged. " +
            "Restore it from a backup, or remove this member and add it again with an empty data directory",
        );
      if (!options.snapshots) throw new Error("raft.db holds a snapshot but no snapshot store was given");
      options.snapshots.install(machine.store.db, decodeRef(snap.data));
      machine.reloaded();
    }
    options.snapshots?.prune(snap.meta.index, true);
    this.raw = new RawNode({
      id: options.id,
      storage,
      electionTick: options.electionTick ?? 10,
      heartbeatTick: 1,
      random: options.random ?? Math.random,
      applied: machine.appliedIndex,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
    });
    // The storage's configuration is the snapshot's: replay conf changes applied since.
    for (let i = storage.snapshot().meta.index + 1; i <= machine.appliedIndex; i++) {
      const entry = storage.entries(i, i + 1)[0];
      if (entry?.type === "conf-change") this.raw.applyConfChange(JSON.parse(entry.data) as ConfChange);
    }
    this.walSync = options.raftDb.memory
      ? null
      : new WalSync(options.raftDb, undefined, undefined, options.raftCheckpoints ?? null);
    let written = storage.initialState().hardState;
    this.persist = options.raftDb.transaction((ready: Ready) => {
      if (ready.snapshot) storage.applySnapshot(ready.snapshot);
      if (ready.entries.length > 0) storage.append(ready.entries);
      // The hard state is written when its term or vote moves, not for its commit index alone,
      // which nothing waits on being durable (a restarted node counts what it applied as
      // committed, and learns the rest from the leader): its row is a page of its own, and
      // writing it with every batch of entries put one more 4 KiB frame in raft.db's WAL per
      // flush (a third of a write's bytes to disk at one connection).
      const hard = ready.hardState;
      if (hard && (hard.term !== written.term || hard.vote !== written.vote)) {
        storage.setHardState(hard);
        written = hard;
      }
    });
  }

  start(): void {
    this.reclaimLog(); // what a compaction cut short by a crash left behind
    this.ticker = setInterval(() => {
      this.raw.tick();
      this.promoteLearners();
      this.schedule();
    }, this.options.tickMs ?? 100);
    this.ticker.unref?.();
  }

  /** When this node last heard from each peer (Date.now()). */
  readonly lastContact = new Map<string, number>();

  /** A message from a peer (the transport calls this). */
  receive(message: Message): void {
    if (this.stopped) return;
    const now = Date.now();
    this.lastContact.set(message.from, now);
    // A follower that forwards a proposal answers its client when it applies the entry, and one
    // that asks for a read index waits to apply up to it: it needs the commit index at once.
    if (message.type === "propose" || message.type === "read-index") {
      this.eagerUntil.set(message.from, now + EAGER_MS);
      // It may be about to wait for a commit index held back for it: send that with the next Ready.
      const held = this.lazyNotices.get(message.from);
      if (held) {
        this.lazyNotices.delete(message.from);
        this.notices.push(held);
      }
    }
    this.raw.step(message);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.process();
    });
  }

  private process(): void {
    // A follower under writes is often writing a Ready. Its proposals and read rounds for the
    // leader need nothing of that write: they leave now rather than after its flush (writes through
    // a follower at 64 connections: about one forwarded proposal in eight is made during a flush).
    if (this.persisting && !this.stopped) {
      const requests = this.raw.takeRequests();
      if (requests.length > 0) this.options.transport.send(requests);
    }
    while (!this.stopped && !this.persisting && this.raw.hasReady()) {
      const ready = this.raw.ready();
      if (ready.softState) {
        // As etcd logs each election's outcome: the one record of who led when, on every node.
        this.options.logger?.info("raft role", {
          role: ready.softState.role,
          leader: ready.softState.leader,
          term: this.raw.raft.term,
        });
        this.leaderChanged(ready.softState.leader);
      }
      // A leader's appends leave before its own write, so the followers write in parallel with it
      // (see Ready.leaderMaySendFirst). They carry the commit index too: a notice still waiting
      // for a follower that gets one of them is dropped, the rest go in the same write.
      const first = RawNode.sentFirst(ready);
      const notices = this.notices.filter((n) => !first.some((m) => m.to === n.to));
      this.notices = [];
      for (const m of first) this.lazyNotices.delete(m.to);
      if (notices.length + first.length > 0) this.options.transport.send([...notices, ...first]);
      // A Ready whose hard state moved only its commit index is not written at all: nothing
      // waits on a commit index being durable, and after a restart RawNode takes the applied
      // index of state.db as committed and learns the rest from the leader. (etcd writes it
      // without an fsync; here that was a raft.db transaction per commit on every node.)
      if (ready.entries.length > 0 || ready.mustSync || ready.snapshot) {
        const span = tracer().startSpan("cfgd.raft.persist", {
          attributes: { "raft.entries": ready.entries.length },
        });
        const started = performance.now();
        const done = () => {
          this.observer.persisted((performance.now() - started) / 1000, ready.entries.length);
          span.end();
        };
        if (ready.mustSync && !ready.snapshot && this.walSync) {
          // Group commit off the event loop: write now, flush on the thread pool, and finish the
          // Ready when the flush is done. Meanwhile requests and messages keep coming in; their
          // entries and answers wait in the core for the next Ready, which makes the next batch.
          let bytes = 0;
          for (const entry of ready.entries) bytes += entry.data.length;
          this.walSync.writeUnsynced(() => this.persist(ready), bytes);
          this.persisting = true;
          // The flush starts before anything else: it runs on the thread pool while the leader
          // applies below.
          const flushed = this.walSync.sync();
          // On the leader, committed entries from before this Ready's new ones were flushed by an
          // earlier Ready (one flush at a time), and committed entries are never replaced: they
          // are applied, and their requests answered, now rather than after this flush. A
          // follower applies them after the flush instead, once it has acknowledged the new
          // entries (finish): the thread would otherwise be busy applying when the flush ends, and
          // every write in the cluster waits for that acknowledgement (writes at 64 connections,
          // medians of six alternations: through the leader 3017 -> 3369 req/s, through a
          // follower 2893 -> 3334).
          if (this.raw.raft.role === "leader") {
            const firstNew = ready.entries[0]?.index ?? Number.POSITIVE_INFINITY;
            const durable = ready.committedEntries.filter((entry) => entry.index < firstNew);
            if (durable.length > 0) this.apply(durable);
          }
          flushed.then(
            () => {
              this.persisting = false;
              done();
              if (this.stopped) return;
              this.finish(ready, first);
              this.process();
            },
            (error: Error) => this.fatal(error),
          );
          break;
        }
        this.persist(ready);
        done();
      }
      this.finish(ready, first);
    }
    if (this.notices.length > 0) setImmediate(() => this.sendNotices());
  }

  /** The rest of a persisted Ready: send, install, apply, advance. */
  private finish(ready: Ready, first: Message[]): void {
    const rest: Message[] = [];
    // With no request of its own waiting here, nothing is worth holding the notices back for: a
    // follower that proposed the entry is waiting for exactly this news.
    const defer = ready.leaderMaySendFirst && this.waiters.size > 0;
    const now = Date.now();
    for (const message of ready.messages) {
      if (first.includes(message)) continue;
      if (ready.leaderMaySendFirst && isNotice(message) && (this.eagerUntil.get(message.to) ?? 0) < now) {
        // Nobody waits on this follower: the news rides the next append, which under load comes
        // within the millisecond, instead of a socket write (and an answer) of its own.
        this.lazyNotices.set(message.to, message);
        this.lazyTimer ??= setTimeout(() => this.sendLazyNotices(), LAZY_NOTICE_MS);
      } else if (defer && isNotice(message)) this.notices.push(message);
      else rest.push(message);
    }
    if (rest.length > 0) this.options.transport.send(this.withImages(rest));
    if (ready.snapshot) this.install(ready.snapshot);
    this.apply(ready.committedEntries);
    for (const read of ready.readStates) {
      this.readyReads.push(read);
      // The leader confirmed the round in flight: reads that came since go in a new one.
      if (this.readRound?.ids.includes(read.requestId)) this.endRound();
    }
    this.raw.advance();
    this.serveReads();
    this.maybeSnapshot();
  }

  /**
   * Entries forwarded to a leader that is no longer the leader may be lost (it may have died
   * before it replicated them) or may still commit (a new leader that has them commits them).
   * Waiting for the timeout would tell the caller nothing more: say so now.
   */
  private leaderChanged(leader: string | null): void {
    for (const [id, waiter] of this.waiters) {
      if (waiter.forwardedTo === null || waiter.forwardedTo === leader) continue;
      this.waiters.delete(id);
      clearTimeout(waiter.timer);
      waiter.reject(
        new CfgError(
          "no_quorum",
          `the leader changed while this write was on its way to ${waiter.forwardedTo}; it may or may not be applied: read before retrying`,
        ),
      );
    }
  }

  /** The log could not be made durable: this node must not go on as if it were. */
  private fatal(error: Error): void {
    this.options.logger?.error("raft.db could not be flushed to disk; stopping", { error: error.message });
    void this.close();
    setImmediate(() => {
      throw error;
    });
  }

  /**
   * A leader's messages that only tell followers of a new commit index (appends without entries,
   * heartbeats that confirm no read) leave after this turn's answers to its own clients when it
   * has some waiting: each socket write costs a tenth of a millisecond or more under load.
   */
  private sendNotices(): void {
    if (this.notices.length === 0 || this.stopped) return;
    const notices = this.notices;
    this.notices = [];
    this.options.transport.send(notices);
  }

  private sendLazyNotices(): void {
    this.lazyTimer = null;
    if (this.lazyNotices.size === 0 || this.stopped) return;
    const notices = [...this.lazyNotices.values()];
    this.lazyNotices.clear();
    this.options.transport.send(notices);
  }

  /** Replace state.db with the leader's image (already on disk, checked by the transport). */
  private install(snapshot: Snapshot): void {
    const snapshots = this.options.snapshots;
    if (!snapshots) throw new Error("a snapshot arrived but this node has no snapshot store");
    const ref = decodeRef(snapshot.data);
    this.options.machine.flush();
    snapshots.install(this.options.machine.store.db, ref);
    this.options.machine.reloaded();
    snapshots.prune(ref.index);
    this.observer.snapshot("installed", ref.size);
    this.options.machine.changes.publish(null);
    this.options.logger?.info("installed snapshot", { index: ref.index, bytes: ref.size });
    this.options.onMembers?.(this.members());
  }

  /**
   * The automatic snapshot, when enough has been applied since the last one: a compaction point,
   * not an image. state.db is committed and its WAL flushed to disk, which makes it durable at the
   * applied index; then raft.db records that index as its snapshot (with no image) and the log is
   * compacted behind it. etcd does the same (its backend, force-committed, is the state its
   * snapshots stand for). An image of state.db was written here before, every 100,000 entries on
   * every node: a copy of the whole database (VACUUM INTO, hashed, fsynced), 20-85 MB and
   * 84-347 ms of a worker's CPU and of the one disk at 100,000-430,000 writes, and its burst of
   * writes made every node's log flushes wait (writes through a follower at 64 connections: p99
   * 15.4-17.8 ms in 8 s runs that crossed one, 11.0-13.0 with none). An image is now made only for a follower that needs
   * one (withImages).
   *
   * Killed halfway: before the point is recorded, nothing changed but a COMMIT and a flush; after,
   * state.db holds at least the recorded index on disk, and raft.db everything after it.
   */
  private maybeSnapshot(): void {
    const every = this.options.snapshotCount ?? 100_000;
    const applied = this.options.machine.appliedIndex;
    const last = this.options.storage.snapshot().meta.index;
    const phase = () => snapshotPhase(this.id, this.raw.raft.confState(), every);
    if (!snapshotDue(applied, last, every, phase)) return;
    this.compactBehind();
  }

  /** A compaction point being made durable (see maybeSnapshot). */
  private compacting = false;

  private compactBehind(): void {
    const { storage, machine, logger, snapshots } = this.options;
    if (!snapshots || this.compacting || this.imaging || this.stopped) return;
    machine.flush();
    const index = machine.appliedIndex;
    if (index <= storage.snapshot().meta.index) return;
    const confState = this.raw.raft.confState();
    this.compacting = true;
    flushWal(machine.store.db).then(
      () => {
        this.compacting = false;
        if (this.stopped || index <= storage.snapshot().meta.index) return;
        this.recordSnapshot(index, confState, encodeCompactionPoint(index));
        this.observer.snapshot("compacted");
        logger?.info("log compacted", { index, firstIndex: storage.firstIndex() });
      },
      (error: Error) => {
        this.compacting = false;
        this.observer.snapshot("failed");
        logger?.warn("log not compacted: state.db could not be flushed to disk", {
          index,
          error: error.message,
        });
      },
    );
  }

  /**
   * Snapshot messages whose image is not on disk (a compaction point has none) do not leave: the
   * core is told the send failed, so it tries again from a fresh probe, and an image of state.db
   * as applied now is made and recorded as the latest snapshot, which that next try sends.
   */
  private withImages(messages: Message[]): Message[] {
    if (!messages.some((m) => m.type === "snapshot")) return messages;
    return messages.filter((message) => {
      if (message.type !== "snapshot") return true;
      if (this.imageOnDisk(message.snapshot!.data)) return true;
      setImmediate(() => {
        if (this.stopped) return;
        this.raw.reportSnapshot(message.to, false);
        this.imageForFollower(message.to);
      });
      return false;
    });
  }

  private imageOnDisk(data: string): boolean {
    if (!hasImage(data) || !this.options.snapshots) return false;
    try {
      return this.options.snapshots.has(decodeRef(data));
    } catch {
      return false;
    }
  }

  private imageForFollower(follower: string): void {
    const { storageWorker, logger } = this.options;
    if (!this.mayImage()) return;
    logger?.info("making a snapshot image for a follower behind the log", { peer: follower });
    if (storageWorker) this.snapshotBeside(storageWorker);
    else this.imageHere();
  }

  /** Whether an image may start now: none under way, no compaction point being made, none failed in the last 10 s. */
  private mayImage(): boolean {
    return (
      this.options.snapshots !== undefined &&
      !this.imaging &&
      !this.compacting &&
      !this.stopped &&
      Date.now() - this.imageFailedAt >= 10_000
    );
  }

  /** snapshot(), for a follower: a failure is logged and tried again 10 s later. */
  private imageHere(): void {
    try {
      this.snapshot();
    } catch (error) {
      this.imageFailedAt = Date.now();
      this.observer.snapshot("failed");
      this.options.logger?.warn("snapshot failed; trying again in 10 s", { error: (error as Error).message });
    }
  }

  /**
   * Whether an image made at applied index `index` is wanted: it is newer than the latest
   * snapshot, or that one's image is not on disk (a compaction point has none).
   */
  private wantsImage(index: number): boolean {
    const latest = this.options.storage.snapshot();
    return index > latest.meta.index || (index === latest.meta.index && !this.imageOnDisk(latest.data));
  }

  /** An image under way on the storage worker; when the last one failed. */
  private imaging = false;
  private imageFailedAt = 0;

  /**
   * snapshot(), with the image made on the storage worker while this thread goes on: the state
   * at the applied index and the configuration at it are taken now, state.db's commits wait
   * until the image is made, and the snapshot is recorded (and the log compacted) only once the
   * image is on disk in full. One that fails is logged and tried again 10 s later.
   */
  private snapshotBeside(worker: StorageWorker): void {
    const { snapshots, machine, logger } = this.options;
    if (!snapshots || !this.mayImage()) return;
    const release = machine.holdCommits();
    if (!release) {
      this.imageHere();
      return;
    }
    const index = machine.appliedIndex;
    const confState = this.raw.raft.confState();
    this.imaging = true;
    const started = performance.now();
    const wanted = () => !this.stopped && this.wantsImage(index);
    snapshots.createBeside(machine.store.db, index, worker, wanted).then(
      (ref) => {
        release();
        this.imaging = false;
        if (!ref || !wanted()) return;
        this.recordSnapshot(index, confState, encodeRef(ref));
        this.imageRecorded(index, ref.size, performance.now() - started);
      },
      (error: Error) => {
        release();
        this.imaging = false;
        this.imageFailedAt = Date.now();
        this.observer.snapshot("failed");
        logger?.warn("snapshot failed; trying again in 10 s", { index, error: error.message });
      },
    );
  }

  private imageRecorded(index: number, bytes: number, imageMs: number): void {
    this.observer.snapshot("created", bytes);
    this.options.logger?.info("snapshot taken", {
      index,
      bytes,
      firstIndex: this.options.storage.firstIndex(),
      imageMs: Math.round(imageMs),
    });
  }

  /**
   * Record a snapshot (an image on disk, or a compaction point over a durable state.db), compact
   * the log behind it, and drop older images once the record is on disk. Record and compaction are
   * one raft.db transaction, written without waiting for the disk: the next flush of the log
   * (WalSync) takes it there. Killed before that, raft.db holds the snapshot before this one,
   * which state.db is at or past.
   */
  private recordSnapshot(index: number, confState: ConfState, data: string): void {
    const { storage, snapshots, raftDb } = this.options;
    const record = raftDb.transaction(() => {
      storage.createSnapshot(index, confState, data);
      const compactTo = index - (this.options.catchUpEntries ?? 5_000);
      if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    });
    // Images older than the latest snapshot raft.db holds once this record is on disk are of no
    // use; the one it names, and any newer (one received from the leader and not yet recorded, or
    // being made), are kept. Decided then, not now: an image may come meanwhile.
    const prune = () => snapshots?.pruneBehind(storage.snapshot().meta.index);
    if (this.walSync) {
      this.walSync.writeUnsynced(() => record(), 2 * 4096);
      this.walSync.sync().then(prune, (error: Error) => this.fatal(error));
    } else {
      record();
      prune();
    }
    this.reclaimLog();
  }

  /**
   * Write an image of state.db at the applied index, record it in raft.db and compact the log
   * behind it. Returns the snapshot's index and size (the last one when nothing new is applied).
   */
  snapshot(): { index: number; bytes: number; compactedTo: number } {
    const { storage, snapshots, machine } = this.options;
    if (!snapshots) throw new CfgError("unavailable", `${this.id} has no snapshot store`);
    if (this.imaging)
      throw new CfgError(
        "unavailable",
        `${this.id} is making a snapshot image for a follower; try again in a few seconds`,
      );
    machine.flush();
    const applied = machine.appliedIndex;
    if (this.wantsImage(applied)) {
      const started = performance.now();
      const ref = snapshots.create(machine.store.db, applied);
      this.recordSnapshot(applied, this.raw.raft.confState(), encodeRef(ref));
      this.imageRecorded(applied, ref.size, performance.now() - started);
    }
    const current = storage.snapshot();
    return {
      index: current.meta.index,
      bytes: current.meta.index > 0 && hasImage(current.data) ? decodeRef(current.data).size : 0,
      compactedTo: storage.firstIndex() - 1,
    };
  }

  /**
   * Drop the compacted log's segments one at a time, RECLAIM_EVERY_MS apart (1.2-3.2 ms of this
   * thread each under writes): one a turn of the event loop, the ten segments behind a compaction
   * went in a row, and every write in flight waited for them (writes through a follower at 64
   * connections: a whole batch of 56 answered 11-12 ms late).
   *
   * Each is written without waiting for the disk (WalSync.writeUnsynced): nothing depends on a
   * drop being durable, since segments a crash or power loss brings back behind the log's start
   * are dropped again by the next reclaim, and the next Ready's flush syncs these frames too.
   */
  private reclaimLog(): void {
    if (this.reclaiming) return;
    this.reclaiming = true;
    const { storage } = this.options;
    const slice = () => storage.reclaim();
    const step = () => {
      const more =
        !this.stopped && (this.walSync ? this.walSync.writeUnsynced(slice, RECLAIM_WAL_BYTES) : slice());
      if (more) setTimeout(step, RECLAIM_EVERY_MS);
      else this.reclaiming = false;
    };
    setImmediate(step);
  }

  private reclaiming = false;

  /** Every member's URL and promotion wish, as applied to state.db. */
  members(): Member[] {
    return this.options.machine.store.members();
  }

  private apply(committed: readonly Entry[]): void {
    const batch: BatchEntry[] = [];
    let membership = false;
    for (const entry of committed) {
      if (entry.index <= this.options.machine.appliedIndex) continue;
      if (entry.type === "conf-change") {
        const cc = JSON.parse(entry.data) as ConfChange;
        this.raw.applyConfChange(cc);
        membership = true;
        const context = parseContext(cc);
        const known = this.options.machine.store.members().find((m) => m.id === cc.nodeId);
        batch.push({
          index: entry.index,
          command: null,
          member:
            cc.type === "remove-node"
              ? { id: cc.nodeId, url: null }
              : {
                  id: cc.nodeId,
                  url: context.url ?? known?.url ?? "",
                  promote: cc.type === "add-learner" && context.promote === true,
                },
        });
        if (cc.nodeId === this.id && cc.type === "remove-node") {
          this.options.logger?.warn("this node was removed from the cluster", { index: entry.index });
        }
      } else
        batch.push({
          index: entry.index,
          command: entry.data === "" ? null : (JSON.parse(entry.data) as Command),
        });
    }
    if (batch.length === 0) return;
    const links: Link[] = [];
    for (const item of batch) {
      const span = item.command ? this.waiters.get(item.command.meta.id)?.span : undefined;
      if (span) links.push({ context: span.spanContext() });
    }
    const span = tracer().startSpan("cfgd.state.apply", {
      links,
      attributes: { "raft.first_index": batch[0]!.index, "raft.entries": batch.length },
    });
    const started = performance.now();
    const outcomes = this.options.machine.applyBatch(batch);
    this.observer.applied((performance.now() - started) / 1000, batch.length);
    span.end();
    for (const [i, item] of batch.entries()) {
      if (!item.command) continue;
      const waiter = this.waiters.get(item.command.meta.id);
      if (!waiter) continue;
      this.waiters.delete(item.command.meta.id);
      clearTimeout(waiter.timer);
      waiter.span?.addEvent("committed and applied", { "raft.index": item.index });
      waiter.resolve(outcomes[i]!);
    }
    if (membership) this.options.onMembers?.(this.members());
  }

  /**
   * A learner has caught up when it has acknowledged entries (so it runs and holds at least the
   * latest snapshot) and is at most `lag` entries behind the commit. A learner that never answered
   * has match 0, which a short log would otherwise count as caught up: promoting a node that is not
   * running would only shrink the cluster's margin for failures.
   */
  private caughtUp(id: string, lag: number): boolean {
    const raft = this.raw.raft;
    const pr = raft.prs.get(id);
    if (!pr || pr.match === 0 || pr.match < raft.log.firstIndex() - 1) return false;
    return pr.match + lag >= raft.log.committed;
  }

  /** As leader, make caught-up learners that are wanted as voters voters (one change at a time). */
  private promoteLearners(): void {
    const raft = this.raw.raft;
    if (raft.role !== "leader" || raft.pendingConfIndex > raft.log.applied) return;
    const lag = this.options.promoteLag ?? 100;
    for (const member of this.members()) {
      if (!member.promote || !raft.learners.has(member.id)) continue;
      if (!this.caughtUp(member.id, lag)) continue;
      const pr = raft.prs.get(member.id)!;
      try {
        this.raw.proposeConfChange({
          type: "add-voter",
          nodeId: member.id,
          context: JSON.stringify({ url: member.url }),
        });
        this.options.logger?.info("promoting caught-up learner", { member: member.id, match: pr.match });
        this.schedule();
      } catch {}
      return;
    }
  }

  private serveReads(): void {
    const applied = this.options.machine.appliedIndex;
    for (let i = this.readyReads.length - 1; i >= 0; i--) {
      const read = this.readyReads[i]!;
      if (read.index > applied) continue;
      this.readyReads.splice(i, 1);
      const round = this.rounds.get(read.requestId);
      if (!round) continue;
      for (const id of round.ids) this.rounds.delete(id);
      for (const waiter of round.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve(read.index);
      }
    }
  }

  /** Ask for a round for the reads waiting on one, unless a round is already on its way. */
  private startReadRound(): void {
    if (this.readRound || this.nextReads.size === 0 || this.stopped) return;
    const round: ReadRound = { ids: [], waiters: this.nextReads, retry: null };
    this.nextReads = new Set();
    for (const waiter of round.waiters) waiter.round = round;
    this.readRound = round;
    this.askRound(round);
  }

  /** Send the round's ReadIndex (again, under a new id, when it was not confirmed in time). */
  private askRound(round: ReadRound): void {
    const requestId = randomUUID();
    try {
      this.raw.readIndex(requestId);
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error;
      if (this.readRound === round) this.readRound = null;
      for (const id of round.ids) this.rounds.delete(id);
      this.failReads(round.waiters, this.notLeader());
      round.waiters.clear();
      // Reads that came while this round was on its way get their answer now too (not_leader,
      // or a round of their own if a leader is known again), not at their timeout.
      this.startReadRound();
      return;
    }
    round.ids.push(requestId);
    this.rounds.set(requestId, round);
    round.retry = setTimeout(() => {
      round.retry = null;
      if (this.readRound === round && !this.stopped) this.askRound(round);
    }, READ_RETRY_MS);
    this.schedule();
  }

  private failReads(waiters: Iterable<ReadWaiter>, error: Error): void {
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  /** The round in flight was confirmed: start the next one for the reads that came since. */
  private endRound(): void {
    const round = this.readRound!;
    if (round.retry) clearTimeout(round.retry);
    round.retry = null;
    this.readRound = null;
    this.startReadRound();
  }

  private notLeader(): CfgError {
    const lead = this.raw.raft.lead;
    return new CfgError(
      "not_leader",
      lead ? `${this.id} is not the leader; ${lead} is` : `${this.id} knows no leader yet; retry shortly`,
      { leader: lead ? { id: lead, url: "" } : null },
    );
  }

  /**
   * Propose a command and resolve with its outcome once it is applied here. On a follower the entry
   * goes to the leader over the Raft stream (no second HTTP request) and the follower answers when
   * it applies the entry itself, so a write answered here is also readable here at once.
   */
  propose(command: Command): Promise<ApplyOutcome> {
    if (this.stopped) return Promise.reject(new CfgError("unavailable", `${this.id} is stopping`));
    const forwardedTo = this.raw.raft.role === "leader" ? null : this.raw.raft.lead;
    try {
      this.raw.propose(JSON.stringify(command), true);
    } catch (error) {
      if (error instanceof ProposalDroppedError) return Promise.reject(this.notLeader());
      throw error;
    }
    const promise = new Promise<ApplyOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(command.meta.id);
        // NB: the entry may still commit later: the caller must treat this as unknown, not failed.
        reject(
          new CfgError("no_quorum", "the write was not committed in time; it may still be applied later"),
        );
      }, this.options.timeoutMs ?? 5000);
      this.waiters.set(command.meta.id, {
        resolve,
        reject,
        timer,
        span: trace.getActiveSpan(),
        forwardedTo,
      });
    });
    this.schedule();
    return promise;
  }

  readBarrier(): Promise<number> {
    if (this.stopped) return Promise.reject(new CfgError("unavailable", `${this.id} is stopping`));
    const promise = new Promise<number>((resolve, reject) => {
      const waiter: ReadWaiter = {
        resolve,
        reject,
        round: null,
        timer: setTimeout(() => {
          this.nextReads.delete(waiter);
          waiter.round?.waiters.delete(waiter);
          reject(new CfgError("no_quorum", "could not confirm the leader with a quorum in time"));
        }, this.options.timeoutMs ?? 5000),
      };
      this.nextReads.add(waiter);
    });
    this.startReadRound();
    return promise;
  }

  /**
   * Add a member as a learner (it receives the log but does not vote); with `promote`, the leader
   * makes it a voter once it has caught up. A learner added again with `promote` is promoted.
   * Resolves when the change is applied on this node.
   */
  async addMember(id: string, url: string, promote: boolean): Promise<void> {
    const raft = this.raw.raft;
    if (raft.voters.has(id)) throw new CfgError("conflict", `${id} is already a voter`);
    if (raft.learners.has(id)) {
      // Adding an existing learner again is a no-op, unless it asks for a promotion not yet asked.
      if (!promote || this.members().some((m) => m.id === id && m.promote)) return;
      // Promote an existing learner now, if it has caught up.
      const match = raft.prs.get(id)?.match ?? 0;
      if (!this.caughtUp(id, this.options.promoteLag ?? 100)) {
        throw new CfgError(
          "conflict",
          `${id} is a learner that has not caught up yet (it has ${match} of ${raft.log.committed} entries); retry when it has`,
        );
      }
      this.proposeConf({ type: "add-voter", nodeId: id, context: JSON.stringify({ url }) });
      await this.waitForConf(() => this.raw.raft.voters.has(id));
      return;
    }
    this.proposeConf({ type: "add-learner", nodeId: id, context: JSON.stringify({ url, promote }) });
    await this.waitForConf(() => this.raw.raft.learners.has(id) || this.raw.raft.voters.has(id));
  }

  /** Remove a member (voter or learner); resolves when the change is applied on this node. */
  async removeMember(id: string): Promise<void> {
    const raft = this.raw.raft;
    if (!raft.voters.has(id) && !raft.learners.has(id)) {
      throw new CfgError("not_found", `${id} is not a member of this cluster`);
    }
    this.proposeConf({ type: "remove-node", nodeId: id });
    await this.waitForConf(() => !this.raw.raft.voters.has(id) && !this.raw.raft.learners.has(id));
  }

  private proposeConf(cc: ConfChange): void {
    if (this.stopped) throw new CfgError("unavailable", `${this.id} is stopping`);
    if (this.raw.raft.role !== "leader") throw this.notLeader();
    if (this.raw.raft.pendingConfIndex > this.raw.raft.log.applied) {
      throw new CfgError("conflict", "another membership change is in progress; retry when it is applied");
    }
    try {
      this.raw.proposeConfChange(cc);
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        throw new CfgError("bad_request", `membership change refused: ${error.message}`);
      }
      throw error;
    }
    this.schedule();
  }

  private async waitForConf(done: () => boolean): Promise<void> {
    const deadline = Date.now() + (this.options.timeoutMs ?? 5000);
    while (!done()) {
      if (this.stopped) throw new CfgError("unavailable", `${this.id} stopped`);
      if (Date.now() > deadline) {
        throw new CfgError(
          "no_quorum",
          "the membership change was not committed in time; it may still be applied",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  appliedIndex(): number {
    return this.options.machine.appliedIndex;
  }

  /**
   * Ready to serve: a member that knows a live leader (it is the leader, or heard from it within
   * two election timeouts) and has applied all but at most `readyLag` of the entries it knows to
   * be committed (see READY_LAG).
   */
  isReady(): boolean {
    const raft = this.raw.raft;
    if (this.stopped || (!raft.voters.has(this.id) && !raft.learners.has(this.id))) return false;
    if (raft.log.committed - this.options.machine.appliedIndex > (this.options.readyLag ?? READY_LAG))
      return false;
    if (raft.role === "leader") return true;
    if (raft.lead === null) return false;
    const heard = this.lastContact.get(raft.lead) ?? 0;
    return Date.now() - heard < 2 * (this.options.electionTick ?? 10) * (this.options.tickMs ?? 100);
  }

  /**
   * Before stopping, a leader hands leadership to the most caught-up voter (TimeoutNow) and waits
   * a little for it to take over, so a rolling restart does not wait for an election timeout.
   */
  async handOver(timeoutMs = 2_000): Promise<boolean> {
    const raft = this.raw.raft;
    if (raft.role !== "leader" || this.stopped) return false;
    let best: string | null = null;
    let bestMatch = -1;
    for (const [id, pr] of raft.prs) {
      if (id === this.id || !raft.voters.has(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best === null) return false;
    this.raw.transferLeadership(best);
    this.schedule();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.raw.raft.role === "leader") {
      await new Promise((done) => setTimeout(done, 20));
    }
    return this.raw.raft.role !== "leader";
  }

  /** Transfer leadership to `to` and wait (bounded) until this node knows a new leader. */
  async transferLeadership(to: string, timeoutMs = 3_000): Promise<{ leader: string | null }> {
    this.raw.transferLeadership(to);
    this.schedule();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.raw.raft.lead !== to) {
      await new Promise((done) => setTimeout(done, 20));
    }
    return { leader: this.raw.raft.lead };
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.options.machine.flush();
    this.walSync?.close();
    if (this.ticker) clearInterval(this.ticker);
    if (this.readRound?.retry) clearTimeout(this.readRound.retry);
    const stopped = new CfgError("unavailable", `${this.id} stopped`);
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(stopped);
    }
    this.failReads(this.nextReads, stopped);
    // A round is in the map once per id it was asked with.
    for (const round of new Set(this.rounds.values())) this.failReads(round.waiters, stopped);
    this.waiters.clear();
    this.nextReads.clear();
    this.rounds.clear();
    this.readRound = null;
  }
}
