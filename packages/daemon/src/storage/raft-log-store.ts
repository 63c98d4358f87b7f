import type { Db } from "./sqlite.js";

/** One entry of the replicated log, as stored in raft.db. */
export interface LogEntry {
  index: number;
  term: number;
  type: "normal" | "conf-change";
  data: string;
}

export interface HardState {
  term: number;
  vote: string | null;
  commit: number;
}

export const RAFT_DB_SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  idx  INTEGER PRIMARY KEY,
  term INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hard_state (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  term   INTEGER NOT NULL,
  vote   TEXT,
  commit_index INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshot_meta (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  idx   INTEGER NOT NULL,
  term  INTEGER NOT NULL,
  conf_state TEXT NOT NULL,
  data  TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS cluster_meta (
  k TEXT PRIMARY KEY,
  v TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS log_start (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  idx   INTEGER NOT NULL,
  term  INTEGER NOT NULL
);
`;

/**
 * raft.db: the durable log, hard state and snapshot metadata. Shaped for the Raft driver: one
 * `save()` per Ready batch writes hard state and entries (truncating a conflicting suffix) in one
 * fsynced transaction (group commit).
 */
export class RaftLogStore {
  private readonly insert;
  private readonly truncateFrom;
  private readonly selectRange;
  private readonly selectLast;
  private readonly selectFirst;
  private readonly upsertHardState;
  private readonly selectHardState;
  private readonly saveTx;

  constructor(private readonly db: Db) {
    db.exec(RAFT_DB_SCHEMA);
    this.insert = db.prepare("INSERT INTO entries (idx, term, type, data) VALUES (?, ?, ?, ?)");
    this.truncateFrom = db.prepare("DELETE FROM entries WHERE idx >= ?");
    this.selectRange = db.prepare(
      "SELECT idx, term, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
    );
    this.selectLast = db.prepare("SELECT idx FROM entries ORDER BY idx DESC LIMIT 1").pluck();
    this.selectFirst = db.prepare("SELECT idx FROM entries ORDER BY idx ASC LIMIT 1").pluck();
    this.upsertHardState = db.prepare(
      "INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET term = excluded.term, vote = excluded.vote, commit_index = excluded.commit_index",
    );
    this.selectHardState = db.prepare(
      "SELECT term, vote, commit_index AS 'commit' FROM hard_state WHERE id = 1",
    );
    this.saveTx = db.transaction((hardState: HardState | undefined, entries: readonly LogEntry[]) => {
      if (entries.length > 0) {
        this.truncateFrom.run(entries[0]!.index);
        for (const entry of entries) this.insert.run(entry.index, entry.term, entry.type, entry.data);
      }
      if (hardState) this.upsertHardState.run(hardState.term, hardState.vote, hardState.commit);
    });
  }

  /** Persist hard state and entries in one fsynced transaction; returns after fsync. */
  save(hardState: HardState | undefined, entries: readonly LogEntry[]): void {
    this.saveTx(hardState, entries);
  }

  hardState(): HardState {
    return (this.selectHardState.get() as HardState | undefined) ?? { term: 0, vote: null, commit: 0 };
  }

  lastIndex(): number {
    return (this.selectLast.get() as number | undefined) ?? 0;
  }

  firstIndex(): number {
    return (this.selectFirst.get() as number | undefined) ?? 1;
  }

  /** Entries in [lo, hi). */
  entries(lo: number, hi: number): LogEntry[] {
    return (
      this.selectRange.all(lo, hi) as { idx: number; term: number; type: LogEntry["type"]; data: string }[]
    ).map((row) => ({ index: row.idx, term: row.term, type: row.type, data: row.data }));
  }

  close(): void {
    this.db.close();
  }
}
