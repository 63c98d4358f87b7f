import Database from "better-sqlite3";

export type Db = Database.Database;

/**
 * Open a SQLite file in WAL mode. `durable` sets synchronous=FULL so a commit returns only after
 * fsync: used for raft.db, whose entries are acknowledged. state.db uses NORMAL: whatever it loses
 * on power failure is replayed from raft.db.
 */
export function openDatabase(file: string, durable: boolean): Db {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durable ? "FULL" : "NORMAL"}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}
