/**
 * One thread per node for the storage work that would otherwise hold the event loop: WAL
 * checkpoints (checkpoints.ts) and snapshot images (snapshot-store.ts). It has its own SQLite
 * connections, one per file, and does one job at a time, in the order asked.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

/** What PRAGMA wal_checkpoint answers. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/** An image of a state.db written by VACUUM INTO, synced, with its applied index and hash. */
export interface ImageResult {
  index: number;
  size: number;
  sha256: string;
}

type Job =
  | { type: "checkpoint"; id: number; file: string }
  | { type: "image"; id: number; file: string; to: string }
  | { type: "close" };
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; message: string };

/**
 * The worker's code. It runs in a context of its own (an eval'd CommonJS script), so it uses only
 * what it requires itself and what comes in workerData.
 */
function storageWorkerMain(): void {
  const { parentPort, workerData } = require("node:worker_threads");
  const {
    closeSync,
    fdatasyncSync,
    fsyncSync,
    openSync,
    readlinkSync,
    readSync,
    statSync,
  } = require("node:fs");
  const { createHash } = require("node:crypto");
  const Database = require(workerData.sqlite);
  // The lowest CPU priority, for this thread alone (Linux gives each thread its own nice value,
  // and any process may lower its own): an image or a checkpoint then takes the CPU the request
  // paths leave idle, instead of a share of it. Elsewhere, or if refused, it runs at the node's.
  try {
    const tid = Number(String(readlinkSync("/proc/thread-self")).split("/").pop());
    require("node:os").setPriority(tid, 19);
  } catch {}
  type Connection = {
    pragma(sql: string): unknown;
    prepare(sql: string): { run(...a: unknown[]): unknown; pluck(): { get(...a: unknown[]): unknown } };
    close(): void;
  };
  const open = new Map<string, { db: Connection; fd: number }>();
  const connection = (path: string) => {
    let file = open.get(path);
    if (!file) {
      const db = new Database(path, { fileMustExist: true }) as Connection;
      db.pragma("synchronous = FULL");
      db.pragma("cache_size = -256"); // checkpoints and VACUUM INTO stream past the page cache
      file = { db, fd: openSync(path, "r") };
      open.set(path, file);
    }
    return file;
  };
  const run = (job: Exclude<Job, { type: "close" }>): unknown => {
    const file = connection(job.file);
    if (job.type === "checkpoint") {
      const [result] = file.db.pragma("wal_checkpoint(PASSIVE)") as CheckpointResult[];
      // SQLite syncs the database file only after a pass that copied the whole WAL, which one
      // beside writes never does: synced here, the owner's pass has only its own pages to sync.
      fdatasyncSync(file.fd);
      return result;
    }
    // One read transaction: the image is state.db as last committed, applied index included.
    file.db.prepare("VACUUM INTO ?").run(job.to);
    const image = new Database(job.to, { readonly: true, fileMustExist: true }) as Connection;
    let index: number;
    try {
      index = Number(image.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get() ?? 0);
    } finally {
      image.close();
    }
    const hash = createHash("sha256");
    const fd = openSync(job.to, "r");
    try {
      const buffer = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return { index, size: statSync(job.to).size, sha256: hash.digest("hex") };
  };
  parentPort.on("message", (job: Job) => {
    if (job.type === "close") {
      for (const { db, fd } of open.values()) {
        db.close();
        closeSync(fd);
      }
      open.clear();
      parentPort.close();
      return;
    }
    try {
      parentPort.postMessage({ id: job.id, ok: true, result: run(job) });
    } catch (error) {
      parentPort.postMessage({ id: job.id, ok: false, message: String((error as Error)?.message ?? error) });
    }
  });
}

export class StorageWorker {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve(r: unknown): void; reject(e: Error): void }>();
  private failure: Error | null = null;
  private readonly exited: Promise<void>;

  constructor() {
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    this.worker = new Worker(`(${storageWorkerMain.toString()})()`, {
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
    this.worker.once("exit", () => fail(new Error("the storage worker stopped")));
  }

  private ask<T>(
    job: { type: "checkpoint"; file: string } | { type: "image"; file: string; to: string },
  ): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.worker.postMessage({ ...job, id });
    });
  }

  /** A PASSIVE checkpoint of `file` on the worker's connection to it. */
  checkpoint(file: string): Promise<CheckpointResult> {
    return this.ask({ type: "checkpoint", file });
  }

  /** VACUUM INTO `to` from the state.db at `file`, then read its applied index, hash and sync it. */
  image(file: string, to: string): Promise<ImageResult> {
    return this.ask({ type: "image", file, to });
  }

  /** Close the worker's connections (after the job it runs, if any) and stop it. */
  async close(): Promise<void> {
    if (!this.failure) this.worker.postMessage({ type: "close" });
    await this.exited;
  }
}
