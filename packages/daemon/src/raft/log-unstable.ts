import { sizeLimitedEnd } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

/**
 * Entries and a snapshot the driver has not persisted yet. `offset` is the index of entries[0].
 */
export class UnstableLog {
  snapshot: Snapshot | undefined;
  entries: Entry[] = [];

  constructor(public offset: number) {}

  firstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  term(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot?.meta.index === index ? this.snapshot.meta.term : undefined;
    }
    const last = this.lastIndex();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  /** The driver persisted entries up to (index, term). */
  stableTo(index: number, term: number): void {
    const t = this.term(index);
    if (t === term && index >= this.offset) {
      this.entries = this.entries.slice(index + 1 - this.offset);
      this.offset = index + 1;
    }
  }

  stableSnapTo(index: number): void {
    if (this.snapshot?.meta.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.meta.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    if (first === this.offset + this.entries.length) {
      for (const entry of entries) this.entries.push(entry);
    } else if (first <= this.offset) {
      // Replaces everything unstable (and, for the driver, the stored suffix from `first`).
      this.offset = first;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, first - this.offset).concat(entries);
    }
  }

  /** Entries in [lo, hi), cut to maxSize bytes counting `used` bytes already taken. */
  slice(lo: number, hi: number, maxSize?: number, used = 0): Entry[] {
    const start = lo - this.offset;
    return this.entries.slice(start, sizeLimitedEnd(this.entries, start, hi - this.offset, maxSize, used));
  }
}
