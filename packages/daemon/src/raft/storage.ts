/**
 * The Storage port: the persisted log the core reads from. The driver writes to it (after the
 * core hands out entries in a Ready); the core never writes. MemoryStorage serves tests and the
 * simulator, where it plays the disk.
 */
import { CompactedError, UnavailableError } from "./errors.js";
import type { ConfState, Entry, HardState, NodeId, Snapshot } from "./types.js";

export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at least one if any, then up to maxSize bytes of data. */
  entries(lo: number, hi: number, maxSize?: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/**
 * A Storage the driver writes to, in the order the persistence contract gives. Implemented by
 * MemoryStorage (tests, simulator) and by the SQLite adapter outside the core.
 */
export interface WritableStorage extends Storage {
  setHardState(hardState: HardState): void;
  /** Append entries, replacing any stored suffix they conflict with. */
  append(entries: readonly Entry[]): void;
  /** Replace the log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void;
  /** Record a snapshot of the state machine at `index` (<= applied). */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot;
  /** Drop entries before `index`. */
  compact(index: number): void;
}

/**
 * The end (exclusive) of the run of `entries` from `start` whose data fits in `maxSize` bytes,
 * `used` bytes being taken already. At least one entry when nothing is used yet, so that one
 * oversized entry still moves. Walks only what it keeps, so slicing a long log stays cheap.
 */
export function sizeLimitedEnd(
  entries: readonly Entry[],
  start: number,
  end: number,
  maxSize: number | undefined,
  used = 0,
): number {
  if (maxSize === undefined) return end;
  let size = used;
  let i = start;
  while (i < end) {
    size += entries[i]!.data.length;
    if (size > maxSize && (i > start || used > 0)) break;
    i++;
  }
  return i;
}

export function limitSize(entries: Entry[], maxSize: number | undefined): Entry[] {
  const end = sizeLimitedEnd(entries, 0, entries.length, maxSize);
  return end === entries.length ? entries : entries.slice(0, end);
}

export class MemoryStorage implements WritableStorage {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  private snap: Snapshot = { meta: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: "" };
  /** ents[0] is a dummy entry at the snapshot's index and term. */
  private ents: Entry[] = [{ index: 0, term: 0, type: "normal", data: "" }];

  /** Storage of a brand-new cluster member whose configuration has these voters. */
  static bootstrap(voters: NodeId[], learners: NodeId[] = []): MemoryStorage {
    const storage = new MemoryStorage();
    storage.snap = {
      meta: { index: 0, term: 0, confState: { voters: [...voters], learners: [...learners] } },
      data: "",
    };
    return storage;
  }

  initialState() {
    return { hardState: { ...this.hardState }, confState: structuredClone(this.snap.meta.confState) };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  term(index: number): number {
    const offset = this.offset();
    if (index < offset) throw new CompactedError(index, offset + 1);
    if (index - offset >= this.ents.length) throw new UnavailableError(index, this.lastIndex());
    return this.ents[index - offset]!.term;
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    const offset = this.offset();
    if (lo <= offset) throw new CompactedError(lo, offset + 1);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex());
    return this.ents.slice(lo - offset, sizeLimitedEnd(this.ents, lo - offset, hi - offset, maxSize));
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Append entries, replacing any stored suffix they conflict with. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[entries.length - 1]!.index;
    if (last < first) return;
    const from = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : entries;
    const at = from[0]!.index - this.offset();
    if (at > this.ents.length)
      throw new Error(`missing log entries: append at ${from[0]!.index}, last is ${this.lastIndex()}`);
    // Truncate in place and push: appending at the end, the common case, copies nothing old.
    this.ents.length = at;
    for (const e of from) this.ents.push({ ...e });
  }

  /** Replace everything with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.meta.index <= this.snap.meta.index) return;
    this.snap = structuredClone(snapshot);
    this.ents = [{ index: snapshot.meta.index, term: snapshot.meta.term, type: "normal", data: "" }];
  }

  /** Record a snapshot of the state machine at `index` (<= applied). */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    this.snap = { meta: { index, term: this.term(index), confState: structuredClone(confState) }, data };
    return this.snap;
  }

  /** Drop entries before `index` (they are covered by a snapshot). */
  compact(index: number): void {
    const offset = this.offset();
    if (index <= offset) return;
    if (index > this.lastIndex()) throw new UnavailableError(index, this.lastIndex());
    const at = index - offset;
    this.ents = [{ index, term: this.ents[at]!.term, type: "normal", data: "" }, ...this.ents.slice(at + 1)];
  }
}
