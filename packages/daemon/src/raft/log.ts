/**
 * The Raft log: persisted entries (Storage) followed by unstable ones, with the commit index and
 * the apply cursor. Mirrors etcd's raftLog.
 */
import { CompactedError } from "./errors.js";
import { UnstableLog } from "./log-unstable.js";
import type { Storage } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

export class RaftLog {
  readonly unstable: UnstableLog;
  committed: number;
  /** Highest index handed to the driver for applying. */
  applying: number;
  /** Highest index the driver confirmed applied (advance). */
  applied: number;

  constructor(
    readonly storage: Storage,
    readonly maxApplyingSize = Number.MAX_SAFE_INTEGER,
  ) {
    const first = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of `index`; 0 when beyond the log; throws CompactedError before the snapshot. */
  term(index: number): number {
    const dummy = this.firstIndex() - 1;
    if (index < dummy) throw new CompactedError(index, dummy + 1);
    if (index > this.lastIndex()) return 0;
    const unstable = this.unstable.term(index);
    if (unstable !== undefined) return unstable;
    return this.storage.term(index);
  }

  /** term() that answers 0 for compacted indexes instead of throwing. */
  termOrZero(index: number): number {
    try {
      return this.term(index);
    } catch (error) {
      if (error instanceof CompactedError) return 0;
      throw error;
    }
  }

  matchTerm(index: number, term: number): boolean {
    if (index > this.lastIndex()) return false;
    return this.termOrZero(index) === term;
  }

  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** First index whose term differs from `entries` (or the first new one), 0 if all match. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`: where a leader's log and ours may
   * agree. Used for fast backtracking on both sides.
   */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    for (; i > 0; i--) {
      let t: number;
      try {
        t = this.term(i);
      } catch {
        break;
      }
      if (t <= term) break;
    }
    return i;
  }

  /** Append a leader's entries after (prevIndex, prevTerm) if they match; returns the last new index or -1. */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, entries: readonly Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    return this.appendAfterMatch(prevIndex, committed, entries);
  }

  /** Append without checking the previous entry (only the skipPrevLogCheck bug switch uses this alone). */
  appendAfterMatch(prevIndex: number, committed: number, entries: readonly Entry[]): number {
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      }
      this.append(entries.slice(conflict - entries[0]!.index));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    if (entries[0]!.index - 1 < this.committed) {
      throw new Error(
        `append at ${entries[0]!.index} would overwrite committed entries (committed ${this.committed})`,
      );
    }
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      if (index > this.lastIndex())
        throw new Error(`commit ${index} is beyond the last index ${this.lastIndex()}`);
      this.committed = index;
    }
  }

  /** Commit up to `index` if that entry is of `term` (the leader's own-term rule). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOrZero(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Entries in [lo, hi), from storage and unstable, up to maxSize bytes (at least one). */
  slice(lo: number, hi: number, maxSize?: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new CompactedError(lo, first);
    const unstableStart = this.unstable.offset;
    if (hi <= unstableStart) return this.storage.entries(lo, hi, maxSize);
    if (lo >= unstableStart) return this.unstable.slice(lo, hi, maxSize);
    const stored = this.storage.entries(lo, unstableStart, maxSize);
    if (stored.length < unstableStart - lo) return stored; // the size limit cut it short
    let used = 0;
    for (const entry of stored) used += entry.data.length;
    const rest = this.unstable.slice(unstableStart, hi, maxSize, used);
    return rest.length === 0 ? stored : stored.concat(rest);
  }

  entriesFrom(index: number, maxSize?: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxSize);
  }

  entryAt(index: number): Entry | undefined {
    try {
      return this.slice(index, index + 1)[0];
    } catch {
      return undefined;
    }
  }

  hasNextCommittedEnts(): boolean {
    return this.committed > this.applying && this.applying + 1 >= this.firstIndex();
  }

  /** Committed entries not yet handed out; marks them as being applied. */
  takeCommittedEnts(): Entry[] {
    if (!this.hasNextCommittedEnts()) return [];
    const entries = this.slice(this.applying + 1, this.committed + 1, this.maxApplyingSize);
    if (entries.length > 0) this.applying = entries[entries.length - 1]!.index;
    return entries;
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
    if (this.applying < this.applied) this.applying = this.applied;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }
}
