import Database from "better-sqlite3";

export type Db = Database.Database;

/**
 * Open a SQLite file in WAL mode. `durable` sets synchronous=FULL so a commit returns only after
 * fsync: used for raft.db, whose entries are acknowledged. state.db uses NORMAL: whatever it
 * loses on power failure is replayed from raft.db. Both get a page cache smaller than this build's
 * default of 16 MiB per connection.
 */
export function openDatabase(file: string, durable: boolean): Db {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${durable ? "FULL" : "NORMAL"}`);
  // raft.db is written at its end and read near its end (a follower catching up reads recent
  // entries, and the core keeps unwritten ones in memory): 2 MiB of page cache serve it. The
  // default of this build (16 MiB per connection) only kept pages of old entries resident.
  // state.db: 4 MiB. Its hot pages (the configs being read, the B-tree's upper levels) fit well
  // within that; the rest is in the OS page cache anyway, and 16 MiB of cold pages per node was a
  // tenth of its memory with 100,000 keys (pnpm bench memory).
  db.pragma(`cache_size = ${durable ? -2000 : -4000}`);
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  return db;
}
