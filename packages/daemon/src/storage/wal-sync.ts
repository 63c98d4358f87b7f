/**
 * Group commit off the event loop for raft.db. SQLite's synchronous=FULL fsyncs the WAL inside
 * COMMIT, which blocks the only JavaScript thread for the whole disk flush (a third of a leader's
 * time under load). Instead the driver writes a Ready's transaction with synchronous=OFF (the
 * frames reach the OS, not the disk) and then calls sync(), which fdatasyncs the WAL file on
 * libuv's thread pool. Nothing that depends on the write (a message, an apply, an answer) happens
 * before sync() resolves, so the contract is the one FULL gives, with the thread free meanwhile.
 *
 * Killed halfway: a process kill loses nothing the OS holds. A power loss before the flush ends
 * leaves a WAL whose last frames fail their checksums; SQLite ignores them on open, which is the
 * same as the transaction never having happened, and nobody was told it did.
 *
 * Checkpoints: a checkpoint copies WAL frames into raft.db, after which SQLite may rewrite the WAL
 * from its start. Without an fsync of raft.db between the two (which synchronous=OFF skips), a
 * power loss could lose both copies. So automatic checkpoints are off and this class starts them
 * under synchronous=FULL (fsync of the WAL, copy, fsync of raft.db) every `checkpointBytes` of
 * WAL (estimated: the rows' bytes and a few pages of B-tree per transaction), as often as SQLite
 * would (4 MiB): the bulk on a worker thread, the rest here after the next flush (checkpoints.ts).
 * A WAL that restarts early is overwritten in place, and an fdatasync that need not record a new
 * file size is about twice as fast here (0.22 against 0.41 ms).
 *
 * For the same reason the WAL is preallocated at start, as etcd preallocates its WAL segments:
 * zeros are written up to `preallocateBytes`, so that from the first write on SQLite overwrites
 * allocated blocks instead of growing the file. SQLite reads a WAL only up to its first frame
 * whose salt and checksum do not match, so the zeros are never taken for frames.
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, openSync, writeSync } from "node:fs";
import type { WalCheckpoints } from "./checkpoints.js";
import type { Db } from "./sqlite.js";

export class WalSync {
  /**
   * The WAL's descriptor, opened once: SQLite removes or replaces the file only when its last
   * connection closes or the journal mode changes, neither of which happens while a node runs.
   */
  private fd: number | null;
  private written = 0;
  private pending = 0;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly checkpointBytes = 4 * 1024 * 1024,
    preallocateBytes = 2 * checkpointBytes,
    /** Checkpoints mostly on a worker thread (see checkpoints.ts); without, all on this one. */
    private readonly checkpoints: WalCheckpoints | null = null,
  ) {
    db.pragma("wal_autocheckpoint = 0");
    // SQLite creates the WAL file with the first transaction, a read one included.
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    this.fd = openSync(`${db.name}-wal`, "r+");
    this.preallocate(this.fd, preallocateBytes);
  }

  private preallocate(fd: number, bytes: number): void {
    const size = fstatSync(fd).size;
    if (size >= bytes) return;
    const zeros = Buffer.alloc(Math.min(1 << 20, bytes - size));
    for (let at = size; at < bytes; at += zeros.length) {
      writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - at), at);
    }
    fdatasyncSync(fd);
  }

  /** Run `write` (one transaction) without waiting for the disk; then await sync(). */
  writeUnsynced<T>(write: () => T, bytes: number): T {
    this.db.exec("PRAGMA synchronous = OFF"); // exec: pragma() prepares and returns rows, twice per Ready
    try {
      return write();
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
      this.written += bytes + 3 * 4096;
    }
  }

  /** Resolves once everything written so far is on disk. */
  sync(): Promise<void> {
    const fd = this.fd;
    if (fd === null) return Promise.reject(new Error("raft.db's WAL is closed"));
    this.pending++;
    return new Promise((resolve, reject) =>
      fdatasync(fd, (error) => {
        this.pending--;
        if (this.closed) this.release();
        if (error) reject(error);
        else {
          this.maybeCheckpoint();
          resolve();
        }
      }),
    );
  }

  /** Called between write transactions (a Ready's is done and flushed; the next waits for it). */
  private maybeCheckpoint(): void {
    if (this.closed || !this.db.open) return;
    if (this.checkpoints?.catchUp()) return;
    if (this.written < this.checkpointBytes) return;
    this.written = 0;
    if (this.checkpoints) this.checkpoints.start();
    else this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  /** Close the descriptor (once no flush is using it). */
  close(): void {
    this.closed = true;
    this.release();
  }

  private release(): void {
    if (this.pending > 0 || this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
