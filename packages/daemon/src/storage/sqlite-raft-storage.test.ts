import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seeded } from "../raft/network.test-helpers.js";
import { runStorageContractTests } from "../raft/storage.contract.js";
import { limitSize } from "../raft/storage.js";
import { RAFT_DB_SCHEMA } from "./raft-log-store.js";
import { openDatabase } from "./sqlite.js";
import { SqliteRaftStorage } from "./sqlite-raft-storage.js";

const file = () => join(mkdtempSync(join(tmpdir(), "raftdb-")), "raft.db");
type Db = ReturnType<typeof openDatabase>;

/** The log as raft.db holds it: every segment table's rows, by index (what the storage must agree with). */
function stored(
  db: Db,
  where = "1",
  ...params: number[]
): { index: number; term: number; type: string; data: string }[] {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'entries_[0-9]*'")
    .pluck()
    .all() as string[];
  if (tables.length === 0) return [];
  const union = tables
    .map((t) => `SELECT idx AS 'index', term, type, data FROM ${t} WHERE ${where}`)
    .join(" UNION ALL ");
  return db.prepare(`${union} ORDER BY 1`).all(...tables.flatMap(() => params)) as never;
}

/** A seeded random walk's dice: random(n) is 0..n-1, the same sequence for the same seed. */
function dice(seed: number): (n: number) => number {
  const next = seeded(seed);
  return (n) => Math.floor(next() * n);
}

runStorageContractTests(
  "SqliteRaftStorage",
  (voters) => new SqliteRaftStorage(openDatabase(file(), true), voters),
);
runStorageContractTests(
  "SqliteRaftStorage in segments of 3 entries",
  (voters) => new SqliteRaftStorage(openDatabase(file(), true), voters, { segmentEntries: 3 }),
);

describe("SqliteRaftStorage across a reopen", () => {
  it("keeps entries, hard state and the snapshot after the database is closed and opened again", () => {
    const path = file();
    const db = openDatabase(path, true);
    const s = new SqliteRaftStorage(db, ["a", "b"]);
    s.append([
      { index: 1, term: 1, type: "normal", data: "x" },
      { index: 2, term: 2, type: "conf-change", data: "y" },
      { index: 3, term: 2, type: "normal", data: "z" },
    ]);
    s.setHardState({ term: 2, vote: "a", commit: 3 });
    s.createSnapshot(2, { voters: ["a", "b"], learners: [] }, "image");
    s.compact(2);
    db.close();
    const again = new SqliteRaftStorage(openDatabase(path, true), ["ignored"]);
    expect(again.initialState()).toEqual({
      hardState: { term: 2, vote: "a", commit: 3 },
      confState: { voters: ["a", "b"], learners: [] },
    });
    expect(again.firstIndex()).toBe(3);
    expect(again.lastIndex()).toBe(3);
    expect(again.entries(3, 4)).toEqual([{ index: 3, term: 2, type: "normal", data: "z" }]);
    expect(again.snapshot().data).toBe("image");
  });

  it("records an image made later at a compaction point's index in its place, and nothing older", () => {
    const path = file();
    const s = new SqliteRaftStorage(openDatabase(path, true), ["a"]);
    s.append([1, 2, 3, 4].map((index) => ({ index, term: 1, type: "normal" as const, data: "x" })));
    s.createSnapshot(3, { voters: ["a"], learners: [] }, "point");
    s.compact(3);
    expect(s.createSnapshot(3, { voters: ["a"], learners: [] }, "image").data).toBe("image");
    expect(s.createSnapshot(2, { voters: ["a"], learners: [] }, "older").data).toBe("image");
    expect(new SqliteRaftStorage(openDatabase(path, true), ["a"]).snapshot()).toEqual({
      meta: { index: 3, term: 1, confState: { voters: ["a"], learners: [] } },
      data: "image",
    });
  });
});

describe("SqliteRaftStorage terms", () => {
  it("answers term() from memory exactly as the entries say, through overwrites, compactions and reopens", () => {
    const path = file();
    let db = openDatabase(path, true);
    let s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 7 });
    // A seeded walk: appends at term t, overwrites of a suffix at a higher term, compactions.
    const random = dice(7);
    let term = 1;
    for (let step = 0; step < 300; step++) {
      const action = random(10);
      if (action < 6) {
        const count = 1 + random(5);
        const from = s.lastIndex() + 1;
        s.append(
          Array.from({ length: count }, (_, i) => ({ index: from + i, term, type: "normal", data: "" })),
        );
      } else if (action < 8 && s.lastIndex() > s.firstIndex()) {
        term += 1;
        const at = s.firstIndex() + random(s.lastIndex() - s.firstIndex() + 1);
        s.append([{ index: at, term, type: "normal", data: "" }]);
      } else if (action === 8 && s.lastIndex() > s.firstIndex() + 2) {
        s.compact(s.firstIndex() + random(s.lastIndex() - s.firstIndex()));
      } else {
        db.close();
        db = openDatabase(path, true);
        s = new SqliteRaftStorage(db, ["a"]);
      }
      const terms = new Map(stored(db).map((e) => [e.index, e.term]));
      for (let i = s.firstIndex(); i <= s.lastIndex(); i++)
        expect(s.term(i), `term of ${i}`).toBe(terms.get(i));
    }
    expect(term).toBeGreaterThan(5);
  });
});

describe("SqliteRaftStorage compaction", () => {
  const rows = (db: Db) => stored(db).length;
  const append = (s: SqliteRaftStorage, from: number, to: number) =>
    s.append(
      Array.from({ length: to - from + 1 }, (_, i) => ({
        index: from + i,
        term: 1,
        type: "normal",
        data: `${from + i}`,
      })),
    );

  it("writes only the new start; reclaim() drops the segments wholly behind it, one a call", () => {
    const db = openDatabase(file(), true);
    const s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 10 });
    append(s, 1, 45); // segments 0 (1-9), 1 (10-19), 2, 3, 4 (40-45)
    s.createSnapshot(32, { voters: ["a"], learners: [] }, "image");
    s.compact(32);
    expect(s.firstIndex()).toBe(33);
    expect(rows(db)).toBe(45); // still there, never read
    expect(s.reclaim()).toBe(true);
    expect(rows(db)).toBe(36);
    expect(s.reclaim()).toBe(true);
    expect(s.reclaim()).toBe(false); // 1-29 dropped: 30-32 stay with the segment that holds the start
    expect(rows(db)).toBe(16);
    expect(s.reclaim()).toBe(false);
    expect(s.entries(33, 46).map((e) => e.data)).toEqual(Array.from({ length: 13 }, (_, i) => `${33 + i}`));
    expect(s.term(32)).toBe(1);
  });

  it("a reopen after a compaction whose segments were not all dropped drops the rest", () => {
    const path = file();
    const db = openDatabase(path, true);
    const s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 4 });
    append(s, 1, 22);
    s.createSnapshot(17, { voters: ["a"], learners: [] }, "image");
    s.compact(17);
    s.reclaim(); // cut short: segments 1 (4-7) to 3 (12-15) are left behind the start
    db.close();
    const again = openDatabase(path, true);
    const t = new SqliteRaftStorage(again, ["a"], { segmentEntries: 99 }); // the recorded size holds
    expect(t.firstIndex()).toBe(18);
    expect(t.lastIndex()).toBe(22);
    expect(rows(again)).toBe(19);
    while (t.reclaim());
    expect(rows(again)).toBe(7); // 16-22: segment 4 holds the start
    expect(t.entries(18, 23)).toHaveLength(5);
    append(t, 23, 25);
    expect(stored(again, "idx >= 23").map((e) => e.index)).toEqual([23, 24, 25]);
  });

  it("drops a compacted log by writing a few pages to the WAL, not the pages its rows were on", () => {
    const path = file();
    const db = openDatabase(path, true);
    db.pragma("wal_autocheckpoint = 0");
    const s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 5_000 });
    const data = "x".repeat(650);
    for (let from = 1; from <= 30_000; from += 500)
      s.append(Array.from({ length: 500 }, (_, i) => ({ index: from + i, term: 1, type: "normal", data })));
    s.createSnapshot(25_000, { voters: ["a"], learners: [] }, "image");
    s.compact(25_000);
    db.pragma("wal_checkpoint(TRUNCATE)");
    while (s.reclaim());
    // 25,000 rows of 650 bytes lay on about 4,200 pages; deleting them wrote nearly all of them.
    const walPages = Math.round(statSync(`${path}-wal`).size / (4096 + 24));
    expect(rows(db)).toBe(5_001); // 25,000-30,000: segment 5 holds the start, segment 6 the last entry
    expect(walPages).toBeLessThan(100);
  });

  it("keeps appends, overwrites and a snapshot install right across segment boundaries", () => {
    const db = openDatabase(file(), true);
    const s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 4 });
    append(s, 1, 13);
    // A new leader's entries replace 6.. (segments 2 and 3 go, segment 1 keeps 4-5).
    s.append([6, 7, 8].map((index) => ({ index, term: 2, type: "normal", data: `new ${index}` })));
    expect(stored(db).map((e) => `${e.index}:${e.term}`)).toEqual([
      "1:1",
      "2:1",
      "3:1",
      "4:1",
      "5:1",
      "6:2",
      "7:2",
      "8:2",
    ]);
    expect(s.lastIndex()).toBe(8);
    expect(s.term(5)).toBe(1);
    expect(s.term(6)).toBe(2);
    s.applySnapshot({
      meta: { index: 20, term: 3, confState: { voters: ["a"], learners: [] } },
      data: "image",
    });
    expect(rows(db)).toBe(0);
    s.append([{ index: 21, term: 3, type: "normal", data: "after" }]);
    expect(stored(db).map((e) => e.index)).toEqual([21]);
    expect(s.entries(21, 22)[0]!.data).toBe("after");
  });
});

describe("SqliteRaftStorage and a raft.db from before segments", () => {
  it("moves the log from the table `entries` into segments at the first open, leaving out what lies behind the start", () => {
    const path = file();
    const db = openDatabase(path, true);
    db.exec(RAFT_DB_SCHEMA);
    const insert = db.prepare("INSERT INTO entries (idx, term, type, data) VALUES (?, ?, ?, ?)");
    for (let i = 1; i <= 30; i++) insert.run(i, i <= 20 ? 1 : 2, "normal", `old ${i}`);
    db.prepare("INSERT INTO log_start (id, idx, term) VALUES (1, 8, 1)").run();
    db.prepare("INSERT INTO hard_state (id, term, vote, commit_index) VALUES (1, 2, 'a', 30)").run();
    db.prepare("INSERT INTO cluster_meta (k, v) VALUES ('cluster_id', 'c1')").run();
    const s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 10 });
    expect(db.prepare("SELECT count(*) FROM entries").pluck().get()).toBe(0);
    expect(stored(db).map((e) => e.index)).toEqual(Array.from({ length: 22 }, (_, i) => 9 + i));
    expect(s.firstIndex()).toBe(9);
    expect(s.lastIndex()).toBe(30);
    expect(s.term(20)).toBe(1);
    expect(s.term(21)).toBe(2);
    expect(s.entries(9, 31).map((e) => e.data)).toEqual(Array.from({ length: 22 }, (_, i) => `old ${9 + i}`));
    expect(s.initialState().hardState).toEqual({ term: 2, vote: "a", commit: 30 });
  });

  it("leaves a single node's raft.db (no cluster id) as it is, for cfgd to refuse", () => {
    const path = file();
    const db = openDatabase(path, true);
    db.exec(RAFT_DB_SCHEMA);
    db.prepare("INSERT INTO entries (idx, term, type, data) VALUES (1, 1, 'normal', 'single')").run();
    const s = new SqliteRaftStorage(db, ["a"]);
    expect(s.meta("cluster_id")).toBeUndefined();
    expect(db.prepare("SELECT count(*) FROM entries").pluck().get()).toBe(1);
    expect(stored(db)).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM cluster_meta").pluck().get()).toBe(0);
  });
});

describe("SqliteRaftStorage entries", () => {
  it("serves entries() from its tail in memory exactly as raft.db holds them, through overwrites, evictions, compactions and reopens", () => {
    const path = file();
    let db = openDatabase(path, true);
    let s = new SqliteRaftStorage(db, ["a"], { segmentEntries: 1_000 });
    const random = dice(11);
    let term = 1;
    for (let step = 0; step < 200; step++) {
      const action = random(20);
      if (action < 12) {
        // Now and then a run longer than the tail keeps, so that older entries come from the table.
        const count = action === 0 ? 2_000 + random(3_000) : 1 + random(50);
        const from = s.lastIndex() + 1;
        s.append(
          Array.from({ length: count }, (_, i) => ({
            index: from + i,
            term,
            type: "normal",
            data: `${term}:${from + i}:${"x".repeat(random(300))}`,
          })),
        );
      } else if (action < 16 && s.lastIndex() > s.firstIndex()) {
        term += 1;
        const at = s.firstIndex() + random(s.lastIndex() - s.firstIndex() + 1);
        s.append([{ index: at, term, type: "normal", data: `overwrite ${at} at ${term}` }]);
      } else if (action < 18 && s.lastIndex() > s.firstIndex() + 2) {
        s.compact(s.firstIndex() + random(s.lastIndex() - s.firstIndex()));
      } else {
        db.close();
        db = openDatabase(path, true);
        s = new SqliteRaftStorage(db, ["a"]);
      }
      const rows = { all: (lo: number, hi: number) => stored(db, "idx >= ? AND idx < ?", lo, hi) };
      for (let probe = 0; probe < 5; probe++) {
        const span = s.lastIndex() - s.firstIndex() + 1;
        const lo = s.lastIndex() - random(Math.min(span, probe < 3 ? 200 : 6_000));
        const hi = lo + 1 + random(s.lastIndex() - lo + 1);
        expect(s.entries(lo, hi), `entries(${lo}, ${hi}) at step ${step}`).toEqual(rows.all(lo, hi));
        const maxSize = random(40_000);
        expect(s.entries(lo, hi, maxSize), `entries(${lo}, ${hi}, ${maxSize}) at step ${step}`).toEqual(
          limitSize(rows.all(lo, hi), maxSize),
        );
      }
    }
    expect(term).toBeGreaterThan(5);
  });
});
