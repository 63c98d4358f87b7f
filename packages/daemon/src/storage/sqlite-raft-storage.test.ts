import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { seeded } from "../raft/network.test-helpers.js";
import { runStorageContractTests } from "../raft/storage.contract.js";
import { openDatabase } from "./sqlite.js";
import { SqliteRaftStorage } from "./sqlite-raft-storage.js";

const file = () => join(mkdtempSync(join(tmpdir(), "raftdb-")), "raft.db");

/** A seeded random walk's dice: random(n) is 0..n-1, the same sequence for the same seed. */
function dice(seed: number): (n: number) => number {
  const next = seeded(seed);
  return (n) => Math.floor(next() * n);
}

runStorageContractTests(
  "SqliteRaftStorage",
  (voters) => new SqliteRaftStorage(openDatabase(file(), true), voters),
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
});

describe("SqliteRaftStorage terms", () => {
  it("answers term() from memory exactly as the entries say, through overwrites, compactions and reopens", () => {
    const path = file();
    let db = openDatabase(path, true);
    let s = new SqliteRaftStorage(db, ["a"]);
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
      const check = db.prepare("SELECT term FROM entries WHERE idx = ?").pluck();
      for (let i = s.firstIndex(); i <= s.lastIndex(); i++)
        expect(s.term(i), `term of ${i}`).toBe(check.get(i));
    }
    expect(term).toBeGreaterThan(5);
  });
});

describe("SqliteRaftStorage compaction", () => {
  const rows = (db: ReturnType<typeof openDatabase>) =>
    db.prepare("SELECT count(*) FROM entries").pluck().get() as number;

  it("writes only the new start; reclaim() deletes the rows behind it a slice at a time", () => {
    const db = openDatabase(file(), true);
    const s = new SqliteRaftStorage(db, ["a"]);
    s.append(Array.from({ length: 25 }, (_, i) => ({ index: i + 1, term: 1, type: "normal", data: `${i}` })));
    s.createSnapshot(20, { voters: ["a"], learners: [] }, "image");
    s.compact(20);
    expect(s.firstIndex()).toBe(21);
    expect(rows(db)).toBe(25); // still there, never read
    expect(s.reclaim(8)).toBe(true);
    expect(rows(db)).toBe(17);
    expect(s.reclaim(8)).toBe(true);
    expect(s.reclaim(8)).toBe(false); // 20 deleted: 21..25 remain
    expect(rows(db)).toBe(5);
    expect(s.reclaim(8)).toBe(false);
    expect(s.entries(21, 26).map((e) => e.data)).toEqual(["20", "21", "22", "23", "24"]);
    expect(s.term(20)).toBe(1);
  });

  it("a reopen after a compaction whose rows were not all deleted reclaims the rest", () => {
    const path = file();
    const db = openDatabase(path, true);
    const s = new SqliteRaftStorage(db, ["a"]);
    s.append(Array.from({ length: 10 }, (_, i) => ({ index: i + 1, term: 1, type: "normal", data: "" })));
    s.createSnapshot(6, { voters: ["a"], learners: [] }, "image");
    s.compact(6);
    s.reclaim(2); // cut short: rows 3..6 are left behind the start
    db.close();
    const again = openDatabase(path, true);
    const t = new SqliteRaftStorage(again, ["a"]);
    expect(t.firstIndex()).toBe(7);
    expect(t.lastIndex()).toBe(10);
    expect(rows(again)).toBe(8);
    while (t.reclaim(3));
    expect(rows(again)).toBe(4);
    expect(t.entries(7, 11)).toHaveLength(4);
  });
});

describe("SqliteRaftStorage entries", () => {
  it("serves entries() from its tail in memory exactly as raft.db holds them, through overwrites, evictions, compactions and reopens", () => {
    const path = file();
    let db = openDatabase(path, true);
    let s = new SqliteRaftStorage(db, ["a"]);
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
      const rows = db.prepare(
        "SELECT idx AS 'index', term, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx",
      );
      for (let probe = 0; probe < 5; probe++) {
        const span = s.lastIndex() - s.firstIndex() + 1;
        const lo = s.lastIndex() - random(Math.min(span, probe < 3 ? 200 : 6_000));
        const hi = lo + 1 + random(s.lastIndex() - lo + 1);
        expect(s.entries(lo, hi), `entries(${lo}, ${hi}) at step ${step}`).toEqual(rows.all(lo, hi));
      }
    }
    expect(term).toBeGreaterThan(5);
  });
});
