/**
 * WAL checkpoints mostly off the event loop. A checkpoint copies the WAL's frames into the
 * database file, one read and one write per page: for the 4 MiB of WAL that raft.db or state.db
 * gather in about a second of writes at 64 connections, 7-31 ms here, on the only JavaScript
 * thread, on every node (SQLite's own automatic checkpoint runs inside the COMMIT that crosses its
 * threshold). Every write in the cluster waited for them.
 *
 * So a checkpoint is done in two passes:
 * 1. The node's storage worker (storage-worker.ts), a thread with its own connection, runs a PASSIVE checkpoint (synchronous=FULL: the WAL
 *    is synced before pages are copied). It runs beside the event loop, whose writes go on.
 * 2. The owner of the database (the only writer), at a moment when it has no write transaction
 *    open, calls catchUp(), which runs the same checkpoint on its own connection, with its own
 *    synchronous setting: it copies only the frames written while the worker ran, syncs, and
 *    completes. A checkpoint that completes lets the next write start the WAL over from its
 *    beginning; one that runs beside writes never completes, and the WAL would only grow.
 *
 * Killed halfway: both passes are SQLite's own checkpoint. A database page is overwritten only
 * with a frame already synced in the WAL, and the WAL starts over only after a checkpoint that
 * synced the database file; whichever pass is cut short, the next open reads the WAL again.
 * Without a worker (it could not start), catchUp() runs the whole checkpoint, as before.
 */
import type { Db } from "./sqlite.js";
import type { StorageWorker } from "./storage-worker.js";

/** The two passes for one database file (see the header). */
export class WalCheckpoints {
  /** idle; the worker's pass running; done, waiting for catchUp(). */
  private state: "idle" | "worker" | "caught-up" = "idle";
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly worker: StorageWorker | null,
    private readonly onError: (error: Error) => void = () => {},
  ) {
    // Checkpoints happen here, not inside a COMMIT.
    db.pragma("wal_autocheckpoint = 0");
  }

  /** Begin a checkpoint: the worker's pass, unless one is under way or waits for catchUp(). */
  start(): void {
    if (this.state !== "idle" || this.closed) return;
    if (!this.worker) {
      this.state = "caught-up";
      return;
    }
    this.state = "worker";
    this.worker.checkpoint(this.db.name).then(
      () => {
        this.state = "caught-up";
      },
      (error: Error) => {
        // The owner's pass does the whole checkpoint instead.
        this.onError(error);
        this.state = "caught-up";
      },
    );
  }

  /**
   * The owner's pass, when the worker's is done: call it only with no write transaction open on
   * the database's connection. True when it ran.
   */
  catchUp(): boolean {
    if (this.state !== "caught-up" || this.closed || !this.db.open) return false;
    this.state = "idle";
    this.db.pragma("wal_checkpoint(PASSIVE)");
    return true;
  }

  close(): void {
    this.closed = true;
  }
}
