import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Db, openDatabase } from "./sqlite.js";
import { WalSync } from "./wal-sync.js";

let dir: string;
let db: Db;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const open = () => {
  dir = mkdtempSync(join(tmpdir(), "wal-sync-"));
  db = openDatabase(join(dir, "raft.db"), true);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  return db;
};

describe("WalSync: raft.db's group commit off the event loop", () => {
  it("writes without SQLite's fsync, then is back to synchronous=FULL for every other write", async () => {
    const wal = new WalSync(open());
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    const seen = wal.writeUnsynced(() => db.pragma("synchronous", { simple: true }), 0);
    expect(seen).toBe(0); // OFF inside
    expect(db.pragma("synchronous", { simple: true })).toBe(2); // FULL after
    wal.writeUnsynced(() => insert.run("a"), 1);
    await wal.sync();
    expect(db.prepare("SELECT v FROM t").pluck().all()).toEqual(["a"]);
    // A write that throws leaves the connection at FULL too.
    expect(() =>
      wal.writeUnsynced(() => {
        throw new Error("boom");
      }, 0),
    ).toThrow("boom");
    expect(db.pragma("synchronous", { simple: true })).toBe(2);
    wal.close();
  });

  it("turns automatic checkpoints off and checkpoints itself, so the WAL does not grow without bound", async () => {
    const wal = new WalSync(open(), 64 * 1024);
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    const value = "x".repeat(1024);
    let largest = 0;
    for (let i = 0; i < 400; i++) {
      wal.writeUnsynced(() => insert.run(value), value.length);
      await wal.sync();
      largest = Math.max(largest, statSync(join(dir, "raft.db-wal")).size);
    }
    // 400 KiB of rows are over 1.6 MiB of WAL frames; checkpoints every 64 KiB let SQLite
    // start the WAL again from its beginning.
    expect(largest).toBeLessThan(1024 * 1024);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(400);
    wal.close();
  });

  it("closes its descriptor only once no flush is using it", async () => {
    const wal = new WalSync(open());
    wal.writeUnsynced(() => db.prepare("INSERT INTO t (v) VALUES ('a')").run(), 1);
    const flushing = wal.sync();
    wal.close();
    await expect(flushing).resolves.toBeUndefined();
  });
});

describe("WalSync: a preallocated WAL", () => {
  it("is extended with zeros at start, and SQLite writes, recovers and reopens it as before", async () => {
    const path = () => join(dir, "raft.db-wal");
    const wal = new WalSync(open(), 64 * 1024, 512 * 1024);
    expect(statSync(path()).size).toBe(512 * 1024);
    const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < 20; i++) {
      wal.writeUnsynced(() => insert.run(`row ${i}`), 8);
      await wal.sync();
    }
    // Written in place: the file did not grow.
    expect(statSync(path()).size).toBe(512 * 1024);
    wal.close();
    // As after a crash: the files copied while open (frames, then zeros, in the WAL; no -shm).
    // SQLite rebuilds its index from the WAL and finds every row.
    const copy = mkdtempSync(join(tmpdir(), "wal-sync-crash-"));
    copyFileSync(join(dir, "raft.db"), join(copy, "raft.db"));
    copyFileSync(path(), join(copy, "raft.db-wal"));
    const again = openDatabase(join(copy, "raft.db"), true);
    expect(again.prepare("SELECT count(*) FROM t").pluck().get()).toBe(20);
    expect(again.prepare("SELECT v FROM t ORDER BY id DESC LIMIT 1").pluck().get()).toBe("row 19");
    again.close();
    rmSync(copy, { recursive: true, force: true });
  });
});
