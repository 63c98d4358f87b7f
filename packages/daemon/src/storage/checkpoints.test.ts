import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WalCheckpoints } from "./checkpoints.js";
import { type Db, openDatabase } from "./sqlite.js";
import { StorageWorker } from "./storage-worker.js";

const dirs: string[] = [];
const workers: StorageWorker[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.close();
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function database(): Db {
  const dir = mkdtempSync(join(tmpdir(), "cfg-ckpt-"));
  dirs.push(dir);
  const db = openDatabase(join(dir, "t.db"), true);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  dbs.push(db);
  return db;
}

function worker(): StorageWorker {
  const w = new StorageWorker();
  workers.push(w);
  return w;
}

const value = "x".repeat(4000);
let nextId = 1;
/** One write transaction of `rows` rows of 4 kB. */
const write = (db: Db, rows = 4) =>
  db.transaction(() => {
    const insert = db.prepare("INSERT INTO t (id, v) VALUES (?, ?)");
    for (let i = 0; i < rows; i++) insert.run(nextId++, value);
  })();

/** Frames in the WAL now (a PASSIVE checkpoint's `log`; it also checkpoints them). */
const framesInWal = (db: Db) => (db.pragma("wal_checkpoint(PASSIVE)") as { log: number }[])[0]!.log;

/** Writes, as the owner does, until the worker's pass is done and catchUp() has run. */
async function writeUntilCaughtUp(db: Db, checkpoints: WalCheckpoints): Promise<number> {
  for (let i = 0; i < 2000; i++) {
    if (checkpoints.catchUp()) return i;
    write(db);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error("the worker's pass did not finish within 2,000 writes");
}

describe("WalCheckpoints", () => {
  it("the worker's pass runs beside the owner's writes, and the owner's completes it: the next write starts the WAL over", async () => {
    const db = database();
    const checkpoints = new WalCheckpoints(db, worker());
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    for (let i = 0; i < 200; i++) write(db);
    checkpoints.start();
    await writeUntilCaughtUp(db, checkpoints);
    write(db, 1);
    // A WAL that started over holds the one transaction just written, not the 800 pages before.
    expect(framesInWal(db)).toBeLessThan(10);
  });

  it("keeps the WAL file bounded through many rounds of writes", async () => {
    const db = database();
    const checkpoints = new WalCheckpoints(db, worker());
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 64; i++) write(db); // about 1 MiB
      checkpoints.start();
      await writeUntilCaughtUp(db, checkpoints);
    }
    // 12 MiB and more were written; a WAL that never started over would hold them all.
    expect(statSync(`${db.name}-wal`).size).toBeLessThan(6 * 1024 * 1024);
    expect(db.prepare("SELECT count(*) FROM t").pluck().get()).toBe(nextId - 1 - countBefore(db));
  });

  it("without a worker, the owner's pass does the whole checkpoint", () => {
    const db = database();
    const checkpoints = new WalCheckpoints(db, null);
    for (let i = 0; i < 100; i++) write(db);
    expect(checkpoints.catchUp()).toBe(false); // nothing started
    checkpoints.start();
    expect(checkpoints.catchUp()).toBe(true);
    write(db, 1);
    expect(framesInWal(db)).toBeLessThan(10);
  });

  it("when the worker fails, says so and leaves the whole checkpoint to the owner", async () => {
    const db = database();
    const broken = worker();
    await broken.close();
    const errors: Error[] = [];
    const checkpoints = new WalCheckpoints(db, broken, (error) => errors.push(error));
    for (let i = 0; i < 100; i++) write(db);
    checkpoints.start();
    await writeUntilCaughtUp(db, checkpoints);
    expect(errors.map((e) => e.message)).toEqual(["the storage worker stopped"]);
    write(db, 1);
    expect(framesInWal(db)).toBeLessThan(10);
  });
});

describe("StorageWorker", () => {
  it("answers a checkpoint of a file it cannot open with the error, and goes on serving others", async () => {
    const w = worker();
    await expect(w.checkpoint(join(tmpdir(), "cfg-no-such-dir", "none.db"))).rejects.toThrow();
    const db = database();
    for (let i = 0; i < 10; i++) write(db);
    const result = await w.checkpoint(db.name);
    expect(result.busy).toBe(0);
    expect(result.checkpointed).toBe(result.log);
  });
});

/** Rows written to databases made before this one in the same file (ids are global). */
function countBefore(db: Db): number {
  const min = db.prepare("SELECT min(id) FROM t").pluck().get() as number;
  return min - 1;
}
