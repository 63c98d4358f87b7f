/**
 * The node driver: runs the pure Raft core against raft.db (SqliteRaftStorage), the state machine
 * (state.db) and a Transport, owns the clock, and implements the Proposer port so that the HTTP
 * layer writes through Raft exactly as it writes through the single-node log.
 *
 * Per Ready batch: persist hard state, entries and snapshot in ONE raft.db transaction (one fsync:
 * group commit), then send, then apply committed entries in one state.db transaction with the
 * applied index, then resolve the proposers and linearizable reads that were waiting, then advance.
 *
 * Not yet: snapshots of state.db and log compaction (the log grows), forwarding of writes from
 * followers (a follower answers not_leader with the leader's id), membership over HTTP.
 */
import { randomUUID } from "node:crypto";
import { CfgError } from "@cfguardian/shared";
import type { Proposer } from "../log/proposer.js";
import { ProposalDroppedError } from "../raft/errors.js";
import { RawNode } from "../raft/raw-node.js";
import type { ConfChange, Message, Ready } from "../raft/types.js";
import type { ApplyOutcome, Command } from "../state/commands.js";
import type { StateMachine } from "../state/state-machine.js";
import type { Db } from "../storage/sqlite.js";
import type { SqliteRaftStorage } from "../storage/sqlite-raft-storage.js";
import type { Transport } from "./transport.js";

export interface RaftNodeOptions {
  id: string;
  raftDb: Db;
  storage: SqliteRaftStorage;
  machine: StateMachine;
  transport: Transport;
  tickMs?: number;
  electionTick?: number;
  /** How long a proposal or a read may wait before it fails with no_quorum (outcome unknown). */
  timeoutMs?: number;
  random?: () => number;
}

interface Waiter {
  resolve(outcome: ApplyOutcome): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class RaftNode implements Proposer {
  readonly id: string;
  readonly raw: RawNode;
  private readonly options: RaftNodeOptions;
  private readonly waiters = new Map<string, Waiter>();
  private readonly reads = new Map<
    string,
    { resolve(index: number): void; reject(error: Error): void; timer: NodeJS.Timeout }
  >();
  private readonly readyReads: { index: number; requestId: string }[] = [];
  private readonly persist: (ready: Ready) => void;
  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  private stopped = false;

  constructor(options: RaftNodeOptions) {
    this.options = options;
    this.id = options.id;
    const { storage, machine } = options;
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
    this.persist = options.raftDb.transaction((ready: Ready) => {
      if (ready.snapshot) storage.applySnapshot(ready.snapshot);
      if (ready.entries.length > 0) storage.append(ready.entries);
      if (ready.hardState) storage.setHardState(ready.hardState);
    });
  }

  start(): void {
    this.ticker = setInterval(() => {
      this.raw.tick();
      this.schedule();
    }, this.options.tickMs ?? 100);
    this.ticker.unref?.();
  }

  /** A message from a peer (the transport calls this). */
  receive(message: Message): void {
    if (this.stopped) return;
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
    while (!this.stopped && this.raw.hasReady()) {
      const ready = this.raw.ready();
      this.persist(ready);
      if (ready.messages.length > 0) this.options.transport.send(ready.messages);
      if (ready.snapshot)
        throw new Error("installing a state machine snapshot is not supported by this node yet");
      this.apply(ready);
      for (const read of ready.readStates) this.readyReads.push(read);
      this.raw.advance();
      this.serveReads();
    }
  }

  private apply(ready: Ready): void {
    const batch: { index: number; command: Command | null }[] = [];
    for (const entry of ready.committedEntries) {
      if (entry.index <= this.options.machine.appliedIndex) continue;
      if (entry.type === "conf-change") {
        this.raw.applyConfChange(JSON.parse(entry.data) as ConfChange);
        batch.push({ index: entry.index, command: null });
      } else
        batch.push({
          index: entry.index,
          command: entry.data === "" ? null : (JSON.parse(entry.data) as Command),
        });
    }
    if (batch.length === 0) return;
    const outcomes = this.options.machine.applyBatch(batch);
    for (const [i, item] of batch.entries()) {
      if (!item.command) continue;
      const waiter = this.waiters.get(item.command.meta.id);
      if (!waiter) continue;
      this.waiters.delete(item.command.meta.id);
      clearTimeout(waiter.timer);
      waiter.resolve(outcomes[i]!);
    }
  }

  private serveReads(): void {
    const applied = this.options.machine.appliedIndex;
    for (let i = this.readyReads.length - 1; i >= 0; i--) {
      const read = this.readyReads[i]!;
      if (read.index > applied) continue;
      this.readyReads.splice(i, 1);
      const waiter = this.reads.get(read.requestId);
      if (!waiter) continue;
      this.reads.delete(read.requestId);
      clearTimeout(waiter.timer);
      waiter.resolve(read.index);
    }
  }

  private notLeader(): CfgError {
    const lead = this.raw.raft.lead;
    return new CfgError(
      "not_leader",
      lead ? `${this.id} is not the leader; ${lead} is` : `${this.id} knows no leader yet; retry shortly`,
      { leader: lead ? { id: lead, url: "" } : null },
    );
  }

  propose(command: Command): Promise<ApplyOutcome> {
    if (this.stopped) return Promise.reject(new CfgError("unavailable", `${this.id} is stopping`));
    try {
      this.raw.propose(JSON.stringify(command));
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
      this.waiters.set(command.meta.id, { resolve, reject, timer });
    });
    this.schedule();
    return promise;
  }

  readBarrier(): Promise<number> {
    if (this.stopped) return Promise.reject(new CfgError("unavailable", `${this.id} is stopping`));
    const requestId = randomUUID();
    try {
      this.raw.readIndex(requestId);
    } catch (error) {
      if (error instanceof ProposalDroppedError) return Promise.reject(this.notLeader());
      throw error;
    }
    const promise = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.reads.delete(requestId);
        reject(new CfgError("no_quorum", "could not confirm the leader with a quorum in time"));
      }, this.options.timeoutMs ?? 5000);
      this.reads.set(requestId, { resolve, reject, timer });
    });
    this.schedule();
    return promise;
  }

  appliedIndex(): number {
    return this.options.machine.appliedIndex;
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
    if (this.ticker) clearInterval(this.ticker);
    for (const waiter of [...this.waiters.values(), ...this.reads.values()]) {
      clearTimeout(waiter.timer);
      waiter.reject(new CfgError("unavailable", `${this.id} stopped`));
    }
    this.waiters.clear();
    this.reads.clear();
  }
}
