/**
 * The single-node write path, shaped like the Raft driver that replaces it in a cluster:
 *
 *   propose -> queue -> [one raft.db transaction: append entries + commit index, fsync]
 *           -> [one state.db transaction: apply entries + applied index] -> resolve waiters
 *
 * Group commit: proposals that arrive while a batch is being written wait in the queue and go
 * together in the next batch, so many writes share one fsync.
 *
 * Killed halfway:
 * - before the raft.db commit: the batch is not in the log; no caller was answered; nothing applied.
 * - after the raft.db commit, before state.db's: the entries are durable but unapplied; on restart
 *   `open()` replays every entry above the applied index. Callers were not answered (they see a
 *   dropped connection: the outcome is unknown to them, and the write is in fact kept).
 * - after state.db's commit: applied exactly once (the applied index moved in the same
 *   transaction), so replay skips it.
 * A caller is answered only after both commits, so an acknowledged write is never lost or torn.
 */

import { type DriverObserver, noObserver } from "../observability/driver-observer.js";
import type { ApplyOutcome, Command } from "../state/commands.js";
import type { StateMachine } from "../state/state-machine.js";
import type { LogEntry, RaftLogStore } from "../storage/raft-log-store.js";
import type { Proposer } from "./proposer.js";

const TERM = 1;
/** Bound on the entries in one batch, so one huge burst does not hold the loop for long. */
const MAX_BATCH = 1024;

interface Waiting {
  command: Command;
  resolve(outcome: ApplyOutcome): void;
  reject(error: Error): void;
}

export interface LogStats {
  batches: number;
  entries: number;
}

export class SingleNodeLog implements Proposer {
  private queue: Waiting[] = [];
  private scheduled = false;
  private closed = false;
  private failure: Error | null = null;
  readonly stats: LogStats = { batches: 0, entries: 0 };

  constructor(
    private readonly log: RaftLogStore,
    private readonly state: StateMachine,
    private readonly onFatal?: (error: Error) => void,
    private readonly observer: DriverObserver = noObserver,
  ) {}

  /** Apply every committed entry the state machine has not applied yet (after a crash). */
  open(): { replayed: number } {
    const applied = this.state.appliedIndex;
    const commit = Math.max(this.log.hardState().commit, 0);
    const last = Math.min(this.log.lastIndex(), commit);
    let replayed = 0;
    for (let lo = applied + 1; lo <= last; lo += MAX_BATCH) {
      const entries = this.log.entries(lo, Math.min(last + 1, lo + MAX_BATCH));
      this.state.applyBatch(entries.map((entry) => ({ index: entry.index, command: decode(entry) })));
      replayed += entries.length;
    }
    return { replayed };
  }

  propose(command: Command): Promise<ApplyOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error("the log is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  readBarrier(): Promise<number> {
    // One node: everything committed is applied before its proposer is answered.
    return Promise.resolve(this.state.appliedIndex);
  }

  appliedIndex(): number {
    return this.state.appliedIndex;
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const first = this.log.lastIndex() + 1;
        const entries: LogEntry[] = batch.map((waiting, i) => ({
          index: first + i,
          term: TERM,
          type: "normal",
          data: JSON.stringify(waiting.command),
        }));
        const last = first + entries.length - 1;
        const started = performance.now();
        this.log.save({ term: TERM, vote: null, commit: last }, entries);
        const saved = performance.now();
        this.observer.persisted((saved - started) / 1000, entries.length);
        const outcomes = this.state.applyBatch(
          batch.map((w, i) => ({ index: first + i, command: w.command })),
        );
        this.observer.applied((performance.now() - saved) / 1000, entries.length);
        this.stats.batches++;
        this.stats.entries += entries.length;
        for (const [i, waiting] of batch.entries()) waiting.resolve(outcomes[i]!);
      } catch (error) {
        // NB: entries may be durable but unapplied now; applying later ones first would reorder the
        // log. Refuse everything from here on; a restart replays in order.
        this.failure = new Error(`the write path failed and stopped: ${(error as Error).message}`);
        for (const waiting of [...batch, ...this.queue.splice(0)]) waiting.reject(this.failure);
        this.onFatal?.(this.failure);
        return;
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length > 0) this.flush();
    this.state.flush();
  }
}

function decode(entry: LogEntry): Command | null {
  if (entry.type !== "normal" || entry.data === "") return null;
  return JSON.parse(entry.data) as Command;
}
