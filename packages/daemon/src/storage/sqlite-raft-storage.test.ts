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
