/**
 * The Raft core's Storage port over raft.db (better-sqlite3). The log, hard state and the last
 * snapshot's metadata live in the tables of RAFT_DB_SCHEMA; the snapshot's `data` is opaque (the
 * cluster stores a reference to a state.db image there). Every write is one transaction, and
 * raft.db runs with synchronous=FULL: when a call returns, it is on disk. The exception is the
 * node driver's Ready writes, which it makes durable with WalSync before anything depends on them.
 */
import { CompactedError, UnavailableError } from "../raft/errors.js";
import { limitSize, type WritableStorage } from "../raft/storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "../raft/types.js";
import { RAFT_DB_SCHEMA } from "./raft-log-store.js";
import type { Db } from "./sqlite.js";

/** At most this many of the last entries appended stay in memory, and at most this many bytes of data. */
const TAIL_ENTRIES = 4096;
const TAIL_BYTES = 8 * 1024 * 1024;

interface SnapshotRow {
  idx: number;
  term: number;
  conf_state: string;
  data: string;
}

export class SqliteRaftStorage implements WritableStorage {
  private readonly s;
  private readonly appendTx;
  private readonly applySnapshotTx;
  private snap: Snapshot;
  private last: number;
  private readonly db: Db;
  /** The entry just before the first stored one: (0, 0), or where the log was compacted. */
  private start: { idx: number; term: number };
  /** The log's terms as runs: each starts at `index` and lasts until the next (term() without a query). */
  private terms: { index: number; term: number }[];
  /** Entries up to this index are deleted; those above it, up to the log's start, wait for reclaim(). */
  private reclaimed: number;
  /**
   * The last entries appended, in order and ending at the log's last index: entries() serves
   * these without a query. A leader reads every entry back soon after appending it (to apply it,
   * and for a follower that falls a little behind), a follower to apply it: the query and its rows
   * were 1-2% of either one's time under writes. Bounded by TAIL_ENTRIES and TAIL_BYTES.
   */
  private tail: Entry[] = [];
  private tailBytes = 0;

  /** Open raft.db; a new file is bootstrapped with `voters` as the genesis configuration. */
  constructor(db: Db, voters: string[] = []) {
    this.db = db;
    db.exec(RAFT_DB_SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      snapshot: p("SELECT idx, term, conf_state, data FROM snapshot_meta WHERE id = 1"),
      upsertSnapshot: p(
        "INSERT INTO snapshot_meta (id, idx, term, conf_state, data) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term, conf_state = excluded.conf_state, data = excluded.data",
      ),
      insert: p("INSERT INTO entries (idx, term, type, data) VALUES (?, ?, ?, ?)"),
      deleteFrom: p("DELETE FROM entries WHERE idx >= ?"),
      deleteRange: p("DELETE FROM entries WHERE idx > ? AND idx <= ?"),
      first: p("SELECT MIN(idx) FROM entries").pluck(),
      deleteAll: p("DELETE FROM entries"),
      logStart: p("SELECT idx, term FROM log_start WHERE id = 1"),
      setLogStart: p(
        "INSERT INTO log_start (id, idx, term) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term",
      ),
      range: p(
        "SELECT idx AS 'index', term, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
      ),
      term: p("SELECT term FROM entries WHERE idx = ?").pluck(),
      last: p("SELECT MAX(idx) FROM entries").pluck(),
      hardState: p("SELECT term, vote, commit_index FROM hard_state WHERE id = 1"),
      upsertHardState: p(
        "INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET term = excluded.term, vote = excluded.vote, commit_index = excluded.commit_index",
      ),
    };
    let row = this.s.snapshot.get() as SnapshotRow | undefined;
    if (!row) {
      row = { idx: 0, term: 0, conf_state: JSON.stringify({ voters, learners: [] }), data: "" };
      this.s.upsertSnapshot.run(row.idx, row.term, row.conf_state, row.data);
    }
    this.snap = {
      meta: { index: row.idx, term: row.term, confState: JSON.parse(row.conf_state) as ConfState },
      data: row.data,
    };
    this.start = (this.s.logStart.get() as { idx: number; term: number } | undefined) ?? { idx: 0, term: 0 };
    this.last = Math.max((this.s.last.get() as number | null) ?? 0, this.start.idx);
    this.terms = (
      db
        .prepare(
          "SELECT idx AS 'index', term FROM entries e WHERE NOT EXISTS (SELECT 1 FROM entries p WHERE p.idx = e.idx - 1 AND p.term = e.term) ORDER BY idx",
        )
        .all() as { index: number; term: number }[]
    ).filter((run) => run.index > this.start.idx);
    this.appendTx = db.transaction((entries: readonly Entry[]) => {
      this.s.deleteFrom.run(entries[0]!.index);
      for (const entry of entries) this.s.insert.run(entry.index, entry.term, entry.type, entry.data);
    });
    this.applySnapshotTx = db.transaction((snapshot: Snapshot) => {
      this.s.deleteAll.run();
      this.writeSnapshot(snapshot);
      this.s.setLogStart.run(snapshot.meta.index, snapshot.meta.term);
    });
    // Rows behind the start left by a compaction that a crash cut short are reclaimed again.
    const first = this.s.first.get() as number | null;
    this.reclaimed = first !== null && first <= this.start.idx ? first - 1 : this.start.idx;
  }

  /**
   * The cluster id recorded at bootstrap; records `proposed` when there is none yet. A data
   * directory made by another cluster keeps its own id, which the caller refuses to run with.
   */
  clusterId(proposed: string): string {
    const row = this.db.prepare("SELECT v FROM cluster_meta WHERE k = 'cluster_id'").pluck().get() as
      | string
      | undefined;
    if (row) return row;
    this.db.prepare("INSERT INTO cluster_meta (k, v) VALUES ('cluster_id', ?)").run(proposed);
    return proposed;
  }

  /** A value of cluster_meta (cluster id, node id, founders), or undefined. */
  meta(key: string): string | undefined {
    return this.db.prepare("SELECT v FROM cluster_meta WHERE k = ?").pluck().get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare("INSERT INTO cluster_meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
      .run(key, value);
  }

  /** True for a raft.db that has never held a log, a hard state or a snapshot. */
  isEmpty(): boolean {
    return this.snap.meta.index === 0 && this.last === 0 && this.s.hardState.get() === undefined;
  }

  /**
   * Found a new cluster the way etcd does: the founding configuration is the log's first entries,
   * one add-voter conf change per founder (carrying its URL) at term 1, committed by fiat. Every
   * founder writes the same entries, so their logs agree; a node that joins later learns the whole
   * membership, URLs included, by replicating the log (or a snapshot of it) like any other entry.
   */
  bootstrap(founders: { id: string; url: string }[]): void {
    if (!this.isEmpty()) throw new Error("bootstrap needs an empty raft.db");
    const entries: Entry[] = founders.map((founder, i) => ({
      index: i + 1,
      term: 1,
      type: "conf-change",
      data: JSON.stringify({
        type: "add-voter",
        nodeId: founder.id,
        context: JSON.stringify({ url: founder.url }),
      }),
    }));
    this.db.transaction(() => {
      this.append(entries);
      this.setHardState({ term: 1, vote: null, commit: entries.length });
    })();
  }

  private writeSnapshot(snapshot: Snapshot): void {
    const { index, term, confState } = snapshot.meta;
    this.s.upsertSnapshot.run(index, term, JSON.stringify(confState), snapshot.data);
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    const row = this.s.hardState.get() as
      | { term: number; vote: string | null; commit_index: number }
      | undefined;
    return {
      hardState: row
        ? { term: row.term, vote: row.vote, commit: row.commit_index }
        : { term: 0, vote: null, commit: 0 },
      confState: structuredClone(this.snap.meta.confState),
    };
  }

  setHardState(hardState: HardState): void {
    this.s.upsertHardState.run(hardState.term, hardState.vote, hardState.commit);
  }

  firstIndex(): number {
    return this.start.idx + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(index: number): number {
    if (index < this.start.idx) throw new CompactedError(index, this.firstIndex());
    if (index === this.start.idx) return this.start.term;
    if (index > this.last) throw new UnavailableError(index, this.last);
    // The last run that starts at or before `index`.
    let lo = 0;
    let hi = this.terms.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.terms[mid]!.index <= index) lo = mid;
      else hi = mid - 1;
    }
    const run = this.terms[lo];
    return run && run.index <= index ? run.term : (this.s.term.get(index) as number);
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    if (lo <= this.start.idx) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.last + 1) throw new UnavailableError(hi - 1, this.last);
    const from = this.tail[0]?.index;
    if (from !== undefined && lo >= from) return limitSize(this.tail.slice(lo - from, hi - from), maxSize);
    return limitSize(this.s.range.all(lo, hi) as Entry[], maxSize);
  }

  /** Keep `from` (just written, contiguous, replacing anything at or after its first index) in the tail. */
  private remember(from: readonly Entry[]): void {
    const at = from[0]!.index;
    const first = this.tail[0]?.index;
    if (first === undefined || at < first || at > first + this.tail.length) this.forgetTail();
    else {
      for (const gone of this.tail.splice(at - first)) this.tailBytes -= gone.data.length;
    }
    for (const entry of from) {
      this.tail.push(entry);
      this.tailBytes += entry.data.length;
    }
    if (this.tail.length > TAIL_ENTRIES || this.tailBytes > TAIL_BYTES) {
      // Drop the oldest quarter at once rather than one entry per append.
      let drop = Math.max(this.tail.length - TAIL_ENTRIES, Math.ceil(this.tail.length / 4));
      drop = Math.min(drop, this.tail.length - 1);
      for (const gone of this.tail.splice(0, drop)) this.tailBytes -= gone.data.length;
    }
  }

  private forgetTail(): void {
    this.tail = [];
    this.tailBytes = 0;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const from = entries[0]!.index < first ? entries.slice(first - entries[0]!.index) : entries;
    if (from.length === 0) return;
    if (from[0]!.index > this.last + 1) {
      throw new Error(`missing log entries: append at ${from[0]!.index}, last is ${this.last}`);
    }
    try {
      this.appendTx(from);
    } catch (error) {
      this.forgetTail(); // the transaction rolled back: the tail may no longer match the table
      throw error;
    }
    this.remember(from);
    this.last = from[from.length - 1]!.index;
    const at = from[0]!.index;
    while (this.terms.length > 0 && this.terms[this.terms.length - 1]!.index >= at) this.terms.pop();
    for (const entry of from) {
      if (this.terms[this.terms.length - 1]?.term !== entry.term)
        this.terms.push({ index: entry.index, term: entry.term });
    }
  }

  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.meta.index <= this.snap.meta.index) return;
    this.applySnapshotTx(snapshot);
    this.snap = structuredClone(snapshot);
    this.start = { idx: snapshot.meta.index, term: snapshot.meta.term };
    this.reclaimed = snapshot.meta.index;
    this.last = snapshot.meta.index;
    this.terms = [];
    this.forgetTail();
  }

  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    if (index <= this.snap.meta.index) return this.snap;
    if (index > this.last) throw new UnavailableError(index, this.last);
    const snapshot: Snapshot = {
      meta: { index, term: this.term(index), confState: structuredClone(confState) },
      data,
    };
    this.writeSnapshot(snapshot);
    this.snap = snapshot;
    return snapshot;
  }

  /**
   * Drop entries before `index`, keeping `index` itself as the log's start (its term stays known).
   * Only the new start is written here; the rows behind it, never read again, are deleted by
   * reclaim() a slice at a time: deleting the 95,000 behind a snapshot in one statement held the
   * thread for 290-335 ms, on every node at once (they compact at the same index). A crash before
   * they are all gone leaves the rest to the next open.
   */
  compact(index: number): void {
    if (index <= this.start.idx) return;
    if (index > this.last) throw new UnavailableError(index, this.last);
    const term = this.term(index);
    this.s.setLogStart.run(index, term);
    this.start = { idx: index, term };
    // Runs that end at or before the new start are no longer needed.
    while (this.terms.length > 1 && this.terms[1]!.index <= index + 1) this.terms.shift();
  }

  /** Delete up to `rows` of the entries behind the log's start; true while some remain. */
  reclaim(rows: number): boolean {
    if (this.reclaimed >= this.start.idx) return false;
    const upTo = Math.min(this.start.idx, this.reclaimed + rows);
    this.s.deleteRange.run(this.reclaimed, upTo);
    this.reclaimed = upTo;
    return upTo < this.start.idx;
  }
}
