/**
 * WAL checkpoints mostly off the event loop. A checkpoint copies the WAL's frames into the
 * database file, one read and one write per page: for the 4 MiB of WAL that raft.db or state.db
 * gather in about a second of writes at 64 connections, 7-31 ms here, on the only JavaScript
 * thread, on every node (SQLite's own automatic checkpoint runs inside the COMMIT that crosses its
 * threshold). Every write in the cluster waited for them.
 *
 * So a checkpoint is done in two passes:
 * 1. A worker thread with its own connection runs a PASSIVE checkpoint (synchronous=FULL: the WAL
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
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { Db } from "./sqlite.js";

/** What PRAGMA wal_checkpoint answers. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

type Reply = { id: number; ok: true; result: CheckpointResult } | { id: number; ok: false; message: string };

/**
 * The worker's code. It runs in a context of its own (an eval'd CommonJS script), so it uses only
 * what it requires itself and what comes in workerData.
 */
function checkpointWorkerMain(): void {
  const { parentPort, workerData } = require("node:worker_threads");
  const { closeSync, fdatasyncSync, openSync } = require("node:fs");
  const Database = require(workerData.sqlite);
  const open = new Map<string, { db: { pragma(sql: string): unknown; close(): void }; fd: number }>();
  parentPort.on(
    "message",
    (message: { type: "checkpoint"; id: number; file: string } | { type: "close" }) => {
      if (message.type === "close") {
        for (const { db, fd } of open.values()) {
          db.close();
          closeSync(fd);
        }
        open.clear();
        parentPort.close();
        return;
      }
      try {
        let file = open.get(message.file);
        if (!file) {
          const db = new Database(message.file, { fileMustExist: true });
          db.pragma("synchronous = FULL");
          db.pragma("cache_size = -256"); // a checkpoint copies frames past the page cache
          file = { db, fd: openSync(message.file, "r") };
          open.set(message.file, file);
        }
        const [result] = file.db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[];
        // SQLite syncs the database file only after a pass that copied the whole WAL, which one
        // beside writes never does: synced here, the owner's pass has only its own pages to sync.
        fdatasyncSync(file.fd);
        parentPort.postMessage({ id: message.id, ok: true, result });
      } catch (error) {
        parentPort.postMessage({
          id: message.id,
          ok: false,
          message: String((error as Error)?.message ?? error),
        });
      }
    },
  );
}

/** One thread that runs checkpoints for any number of files, one at a time. */
export class CheckpointWorker {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve(r: CheckpointResult): void; reject(e: Error): void }
  >();
  private failure: Error | null = null;
  private exited: Promise<void>;

  constructor() {
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(`(${checkpointWorkerMain.toString()})()`, {
      eval: true,
      workerData: { sqlite },
      // It allocates next to nothing: a small heap keeps its share of the node's memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    });
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.message));
    });
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiter of this.waiting.values()) waiter.reject(this.failure);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.once("exit", () => fail(new Error("the checkpoint worker stopped")));
  }

  /** A PASSIVE checkpoint of `file` on the worker's connection to it. */
  checkpoint(file: string): Promise<CheckpointResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: "checkpoint", id, file });
    });
  }

  /** Close the worker's connections (after the checkpoint it runs, if any) and stop it. */
  async close(): Promise<void> {
    if (!this.failure) this.worker.postMessage({ type: "close" });
    await this.exited;
  }
}

/** The two passes for one database file (see the header). */
export class WalCheckpoints {
  /** idle; the worker's pass running; done, waiting for catchUp(). */
  private state: "idle" | "worker" | "caught-up" = "idle";
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly worker: CheckpointWorker | null,
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
