/**
 * The Raft core's Storage port over raft.db (better-sqlite3). Hard state and the last snapshot's
 * metadata live in the tables of RAFT_DB_SCHEMA; the snapshot's `data` is opaque (the cluster
 * stores a reference to a state.db image there). Every write is one transaction, and raft.db runs
 * with synchronous=FULL: when a call returns, it is on disk. The exception is the node driver's
 * Ready writes, which it makes durable with WalSync before anything depends on them.
 *
 * The log is kept in segments, as etcd keeps its WAL in segment files: a table `entries_<n>` per
 * `segmentEntries` indexes (n = index / segmentEntries). Compaction behind a snapshot then drops
 * whole tables instead of deleting rows. Deleting the 45,000 rows behind a snapshot wrote 7,800
 * pages (31 MiB) to raft.db's WAL, nearly every page the rows were on, and a checkpoint then copied
 * them into the file again; dropping the tables that held them wrote 10 pages (here, 650-byte
 * entries). On every node, after every snapshot, beside the writes: the checkpoint's last pass
 * held the event loop for 10-31 ms. Rows behind the start in the segment that holds it stay
 * until a later compaction passes that segment's end; they are never read.
 *
 * A raft.db from before segments, with its log in the table `entries`, has it moved into segments
 * the first time it is opened, in one transaction.
 */

import type { Statement as SqlStatement } from "better-sqlite3";
import { CompactedError, UnavailableError } from "../raft/errors.js";
import { limitSize, type WritableStorage } from "../raft/storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "../raft/types.js";
import { RAFT_DB_SCHEMA } from "./raft-log-store.js";
import type { Db } from "./sqlite.js";

type Statement = SqlStatement<unknown[]>;

/** Indexes per segment table of a new raft.db (recorded in it: an existing one keeps its own). */
export const SEGMENT_ENTRIES = 10_000;
const SEGMENT_KEY = "log_segment_entries";

/** At most this many of the last entries appended stay in memory, and at most this many bytes of data. */
const TAIL_ENTRIES = 4096;
const TAIL_BYTES = 8 * 1024 * 1024;

/** The statements of one segment table, prepared when first needed. */
interface Segment {
  insert: Statement;
  deleteFrom: Statement;
  range: Statement;
  term: Statement;
}

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
  /** Indexes per segment table (see the header). */
  private readonly segmentEntries: number;
  /** The segment tables there are, by number, ascending. */
  private segments: number[] = [];
  private readonly segmentStatements = new Map<number, Segment>();
  /**
   * The segment size raft.db records, if it records one yet: a new raft.db records it with its
   * first segment table (opening a raft.db writes nothing to it: cfgd may refuse the data
   * directory next).
   */
  private recordedSegmentEntries: number | undefined;
  private snap: Snapshot;
  private last: number;
  private readonly db: Db;
  /** The entry just before the first stored one: (0, 0), or where the log was compacted. */
  private start: { idx: number; term: number };
  /** The log's terms as runs: each starts at `index` and lasts until the next (term() without a query). */
  private terms: { index: number; term: number }[];
  /**
   * The last entries appended, in order and ending at the log's last index: entries() serves
   * these without a query. A leader reads every entry back soon after appending it (to apply it,
   * and for a follower that falls a little behind), a follower to apply it: the query and its rows
   * were 1-2% of either one's time under writes. Bounded by TAIL_ENTRIES and TAIL_BYTES.
   */
  private tail: Entry[] = [];
  private tailBytes = 0;

  /**
   * Open raft.db; a new file is bootstrapped with `voters` as the genesis configuration.
   * `segmentEntries`: indexes per segment table of a new file (tests use small ones).
   */
  constructor(db: Db, voters: string[] = [], options: { segmentEntries?: number } = {}) {
    this.db = db;
    db.exec(RAFT_DB_SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      snapshot: p("SELECT idx, term, conf_state, data FROM snapshot_meta WHERE id = 1"),
      upsertSnapshot: p(
        "INSERT INTO snapshot_meta (id, idx, term, conf_state, data) VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term, conf_state = excluded.conf_state, data = excluded.data",
      ),
      logStart: p("SELECT idx, term FROM log_start WHERE id = 1"),
      setLogStart: p(
        "INSERT INTO log_start (id, idx, term) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET idx = excluded.idx, term = excluded.term",
      ),
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
    this.loadSegments();
    const wanted = options.segmentEntries ?? SEGMENT_ENTRIES;
    if (this.recordedSegmentEntries === undefined && (!Number.isInteger(wanted) || wanted < 1))
      throw new Error(`segmentEntries must be a positive integer, not ${wanted}`);
    this.segmentEntries = this.recordedSegmentEntries ?? wanted;
    this.moveLegacyLog();
    this.last = Math.max(this.lastStored(), this.start.idx);
    this.terms = this.termRuns();
    this.appendTx = db.transaction((entries: readonly Entry[]) => {
      this.truncateFrom(entries[0]!.index);
      let number = -1;
      let segment: Segment | undefined;
      for (const entry of entries) {
        const n = Math.floor(entry.index / this.segmentEntries);
        if (n !== number) {
          number = n;
          segment = this.segment(n, true);
        }
        segment!.insert.run(entry.index, entry.term, entry.type, entry.data);
      }
    });
    this.applySnapshotTx = db.transaction((snapshot: Snapshot) => {
      for (const n of [...this.segments]) this.dropSegment(n);
      this.writeSnapshot(snapshot);
      this.s.setLogStart.run(snapshot.meta.index, snapshot.meta.term);
    });
  }

  /** The segment tables there are, read from the schema (after a reopen or a failed write). */
  private loadSegments(): void {
    const names = this.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'entries_[0-9]*'")
      .pluck()
      .all() as string[];
    this.segments = names.map((name) => Number(name.slice("entries_".length))).sort((a, b) => a - b);
    this.segmentStatements.clear();
    const recorded = this.meta(SEGMENT_KEY);
    this.recordedSegmentEntries = recorded === undefined ? undefined : Number(recorded);
  }

  /** Segment `n`'s statements; with `create`, its table is made when there is none. */
  private segment(n: number, create = false): Segment | undefined {
    const known = this.segmentStatements.get(n);
    if (known) return known;
    const table = `entries_${n}`;
    if (!this.segments.includes(n)) {
      if (!create) return undefined;
      if (this.recordedSegmentEntries === undefined) {
        this.setMeta(SEGMENT_KEY, String(this.segmentEntries));
        this.recordedSegmentEntries = this.segmentEntries;
      }
      this.db.exec(
        `CREATE TABLE ${table} (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL)`,
      );
      let at = this.segments.length;
      while (at > 0 && this.segments[at - 1]! > n) at--;
      this.segments.splice(at, 0, n);
    }
    const p = (sql: string) => this.db.prepare<unknown[]>(sql);
    const statements: Segment = {
      insert: p(`INSERT INTO ${table} (idx, term, type, data) VALUES (?, ?, ?, ?)`),
      deleteFrom: p(`DELETE FROM ${table} WHERE idx >= ?`),
      range: p(
        `SELECT idx AS 'index', term, type, data FROM ${table} WHERE idx >= ? AND idx < ? ORDER BY idx`,
      ),
      term: p(`SELECT term FROM ${table} WHERE idx = ?`).pluck(),
    };
    this.segmentStatements.set(n, statements);
    return statements;
  }

  private dropSegment(n: number): void {
    this.db.exec(`DROP TABLE IF EXISTS entries_${n}`);
    this.segmentStatements.delete(n);
    this.segments = this.segments.filter((m) => m !== n);
  }

  /** Delete every entry at or after `index`: rows of its segment, and the later segments whole. */
  private truncateFrom(index: number): void {
    const n = Math.floor(index / this.segmentEntries);
    while (this.segments.length > 0 && this.segments[this.segments.length - 1]! > n) {
      this.dropSegment(this.segments[this.segments.length - 1]!);
    }
    this.segment(n)?.deleteFrom.run(index);
  }

  /** The last index of the stored log (0 for none). */
  private lastStored(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const last = this.db.prepare(`SELECT MAX(idx) FROM entries_${this.segments[i]}`).pluck().get() as
        | number
        | null;
      if (last !== null) return last;
    }
    return 0;
  }

  /** The log's terms as runs (see `terms`), read from every segment once, at open. */
  private termRuns(): { index: number; term: number }[] {
    const runs: { index: number; term: number }[] = [];
    for (const n of this.segments) {
      const table = `entries_${n}`;
      // Within a segment, the entries whose predecessor there has another term (or is not there).
      const starts = this.db
        .prepare(
          `SELECT idx AS 'index', term FROM ${table} e WHERE idx > ? AND NOT EXISTS (SELECT 1 FROM ${table} p WHERE p.idx = e.idx - 1 AND p.term = e.term) ORDER BY idx`,
        )
        .all(this.start.idx) as { index: number; term: number }[];
      for (const run of starts) if (runs[runs.length - 1]?.term !== run.term) runs.push(run);
    }
    return runs;
  }

  /**
   * The log of a raft.db from before segments, in the table `entries`, moved into segments in one
   * transaction (a crash before its end leaves it where it was, to be moved at the next open).
   * Rows behind the log's start are left out; the table is emptied.
   */
  private moveLegacyLog(): void {
    // Only a cluster's raft.db (it has an id) is moved: a single node's log (RaftLogStore) stays
    // where it is, for cfgd to refuse the data directory as it is.
    if (this.meta("cluster_id") === undefined) return;
    if (this.db.prepare("SELECT 1 FROM entries LIMIT 1").get() === undefined) return;
    const range = this.db
      .prepare("SELECT MIN(idx) AS lo, MAX(idx) AS hi FROM entries WHERE idx > ?")
      .get(this.start.idx) as { lo: number | null; hi: number | null };
    this.db.transaction(() => {
      if (range.lo !== null && range.hi !== null) {
        const size = this.segmentEntries;
        for (let n = Math.floor(range.lo / size); n <= Math.floor(range.hi / size); n++) {
          this.segment(n, true);
          this.db
            .prepare(
              `INSERT INTO entries_${n} SELECT idx, term, type, data FROM entries WHERE idx > ? AND idx >= ? AND idx < ?`,
            )
            .run(this.start.idx, n * size, (n + 1) * size);
        }
      }
      this.db.exec("DELETE FROM entries");
    })();
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
    return run && run.index <= index
      ? run.term
      : (this.segment(Math.floor(index / this.segmentEntries))?.term.get(index) as number);
  }

  entries(lo: number, hi: number, maxSize?: number): Entry[] {
    if (lo <= this.start.idx) throw new CompactedError(lo, this.firstIndex());
    if (hi > this.last + 1) throw new UnavailableError(hi - 1, this.last);
    const from = this.tail[0]?.index;
    if (from !== undefined && lo >= from) return limitSize(this.tail.slice(lo - from, hi - from), maxSize);
    // Read only as far as limitSize keeps (at least one entry, then up to maxSize bytes): a
    // follower far behind asks for the whole rest of the log, 1 MiB at a time.
    const rows: Entry[] = [];
    let bytes = 0;
    segments: for (
      let n = Math.floor(lo / this.segmentEntries);
      n <= Math.floor((hi - 1) / this.segmentEntries);
      n++
    ) {
      for (const row of (this.segment(n)?.range.iterate(lo, hi) ?? []) as Iterable<Entry>) {
        rows.push(row);
        bytes += row.data.length;
        if (maxSize !== undefined && bytes > maxSize) break segments;
      }
    }
    return limitSize(rows, maxSize);
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
      // The transaction rolled back: the tail and the segments known may no longer match raft.db.
      this.forgetTail();
      this.loadSegments();
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
    try {
      this.applySnapshotTx(snapshot);
    } catch (error) {
      this.loadSegments();
      throw error;
    }
    this.snap = structuredClone(snapshot);
    this.start = { idx: snapshot.meta.index, term: snapshot.meta.term };
    this.last = snapshot.meta.index;
    this.terms = [];
    this.forgetTail();
  }

  /**
   * Record a snapshot at `index`. At the index of the one recorded, only its data is replaced:
   * the image made later of the same state, for a compaction point that had none.
   */
  createSnapshot(index: number, confState: ConfState, data: string): Snapshot {
    if (index < this.snap.meta.index || (index === this.snap.meta.index && data === this.snap.data))
      return this.snap;
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
   * Only the new start is written here; the segments behind it, never read again, are dropped by
   * reclaim() one at a time (dropping one reads its pages to free them: a few milliseconds for
   * 10,000 entries). A crash before they are all gone leaves the rest to the next reclaim().
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

  /** Drop the first segment if all of it lies behind the log's start; true while another does. */
  reclaim(): boolean {
    const behind = (n: number | undefined) =>
      n !== undefined && (n + 1) * this.segmentEntries - 1 <= this.start.idx;
    if (!behind(this.segments[0])) return false;
    this.dropSegment(this.segments[0]!);
    return behind(this.segments[0]);
  }
}
