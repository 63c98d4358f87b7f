import Database from "better-sqlite3";

export type Db = Database.Database;

/**
 * Open a SQLite file in WAL mode. `durable` sets synchronous=FULL so a commit returns only after
 * fsync, and a small page cache: used for raft.db, whose entries are acknowledged. state.db uses
 * NORMAL: whatever it loses on power failure is replayed from raft.db.
 */
export function openDatabase(file: string, durable: boolean): Db {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durable ? "FULL" : "NORMAL"}`);
  // raft.db is written at its end and read near its end (a follower catching up reads recent
  // entries, and the core keeps unwritten ones in memory): 2 MiB of page cache serve it. The
  // default of this build (16 MiB per connection) only kept pages of old entries resident.
  if (durable) db.pragma("cache_size = -2000");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}
