import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runStorageContractTests } from "../raft/storage.contract.js";
import { openDatabase } from "./sqlite.js";
import { SqliteRaftStorage } from "./sqlite-raft-storage.js";

const file = () => join(mkdtempSync(join(tmpdir(), "raftdb-")), "raft.db");

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
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
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
