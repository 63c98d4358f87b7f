/**
 * State machine snapshots: consistent images of state.db in `<dataDir>/snapshots/`, one file per
 * snapshot index (`snap-<index>.db`), immutable once written.
 *
 * Crash safety, step by step:
 * - create: `VACUUM INTO` a temp file (one read transaction: the image is exactly the state at the
 *   applied index), fsync it, rename it into place, fsync the directory. Only then does the caller
 *   record the snapshot in raft.db and compact the log, so a recorded snapshot always exists on
 *   disk in full. A crash before leaves a temp file, removed at the next start.
 * - receive: the streamed body goes to a temp file that is checked against the sender's size and
 *   SHA-256 before it is fsynced and renamed; a short, corrupt or interrupted stream leaves nothing.
 * - install: the image is ATTACHed and every table of state.db is replaced from it in ONE state.db
 *   transaction (the applied index is a row of `meta`, so it moves with the data). A crash before
 *   the commit leaves the old state; the driver then sees applied < the snapshot index recorded in
 *   raft.db and installs again at the next start.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Db } from "./sqlite.js";
import type { StorageWorker } from "./storage-worker.js";

/** What Snapshot.data carries in the cluster: enough to find and check the image. */
export interface SnapshotRef {
  index: number;
  size: number;
  sha256: string;
}

export const encodeRef = (ref: SnapshotRef): string => JSON.stringify(ref);

/**
 * What an automatic snapshot records: a point of the log with no image, the state there being
 * state.db itself, made durable at that index before the point was recorded (as etcd's backend
 * is the state its snapshots stand for). An image is made only when a follower needs one.
 */
export const encodeCompactionPoint = (index: number): string => JSON.stringify({ index, image: false });

/** Whether a snapshot's data names an image (else it is a compaction point: see above). */
export function hasImage(data: string): boolean {
  try {
    return (JSON.parse(data) as { image?: unknown }).image !== false;
  } catch {
    return false;
  }
}

export function decodeRef(data: string): SnapshotRef {
  const ref = JSON.parse(data) as Partial<SnapshotRef>;
  if (
    typeof ref.index !== "number" ||
    !Number.isSafeInteger(ref.index) ||
    ref.index < 1 ||
    typeof ref.size !== "number" ||
    typeof ref.sha256 !== "string" ||
    !/^[0-9a-f]{64}$/.test(ref.sha256)
  ) {
    throw new Error(`not a snapshot reference: ${data.slice(0, 200)}`);
  }
  return { index: ref.index, size: ref.size, sha256: ref.sha256 };
}

const NAME = /^snap-(\d{12})\.db$/;

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export class SnapshotStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "snapshots");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(index: number): string {
    return join(this.dir, `snap-${String(index).padStart(12, "0")}.db`);
  }

  private temp(): string {
    return join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  }

  private publish(temp: string, index: number, synced = false): void {
    if (!synced) fsyncPath(temp);
    renameSync(temp, this.path(index));
    fsyncPath(this.dir);
  }

  /**
   * Write the image of `stateDb` as the snapshot at `index` (the caller guarantees that state.db's
   * applied index is `index` and that no write runs meanwhile: this is synchronous).
   */
  create(stateDb: Db, index: number): SnapshotRef {
    const temp = this.temp();
    try {
      stateDb.prepare("VACUUM INTO ?").run(temp);
      const hash = createHash("sha256");
      const fd = openSync(temp, "r");
      try {
        const buffer = Buffer.allocUnsafe(1 << 20);
        for (;;) {
          const n = readSync(fd, buffer, 0, buffer.length, null);
          if (n === 0) break;
          hash.update(buffer.subarray(0, n));
        }
      } finally {
        closeSync(fd);
      }
      const size = statSync(temp).size;
      this.publish(temp, index);
      return { index, size, sha256: hash.digest("hex") };
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {}
      throw error;
    }
  }

  /**
   * The same image, made on the storage worker's own connection, so that this thread goes on
   * applying and answering meanwhile (VACUUM INTO and hashing the image of 100,000 keys held it
   * 130-170 ms, on every node at the same index). The caller keeps state.db's committed state at
   * `index` until this resolves (StateMachine.holdCommits) and says, once the image is made,
   * whether it still wants it (a snapshot installed from the leader meanwhile makes it stale).
   * Resolves with null when it is not wanted; a crash halfway leaves a temp file, removed at the
   * next start, and nothing recorded.
   */
  async createBeside(
    stateDb: Db,
    index: number,
    worker: StorageWorker,
    wanted: () => boolean,
  ): Promise<SnapshotRef | null> {
    const temp = this.temp();
    try {
      const image = await worker.image(stateDb.name, temp);
      if (image.index !== index)
        throw new Error(
          `the image holds applied index ${image.index}, not ${index}: state.db was committed meanwhile`,
        );
      if (!wanted()) {
        unlinkSync(temp);
        return null;
      }
      this.publish(temp, index, true);
      return { index, size: image.size, sha256: image.sha256 };
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {}
      throw error;
    }
  }

  /** A readable stream of the image, for a follower that needs it. */
  open(ref: SnapshotRef): Readable {
    return createReadStream(this.path(ref.index), { highWaterMark: 1 << 20 });
  }

  has(ref: SnapshotRef): boolean {
    try {
      return statSync(this.path(ref.index)).size === ref.size;
    } catch {
      return false;
    }
  }

  /**
   * Store a streamed image sent by the leader. Resolves once it is complete, checked and durable;
   * rejects (leaving nothing behind) if the stream is short, long, corrupt or interrupted.
   */
  async receive(body: Readable | ReadableStream<Uint8Array>, ref: SnapshotRef): Promise<void> {
    if (this.has(ref) && (await sha256File(this.path(ref.index))) === ref.sha256) return;
    const temp = this.temp();
    const hash = createHash("sha256");
    let size = 0;
    try {
      const source = body instanceof Readable ? body : Readable.fromWeb(body as never);
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            if (size > ref.size) throw new Error(`snapshot stream longer than ${ref.size} bytes`);
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(temp, { mode: 0o600 }),
      );
      if (size !== ref.size) throw new Error(`snapshot stream ended at ${size} of ${ref.size} bytes`);
      const sha256 = hash.digest("hex");
      if (sha256 !== ref.sha256)
        throw new Error(`snapshot checksum mismatch: got ${sha256}, expected ${ref.sha256}`);
      this.publish(temp, ref.index);
    } catch (error) {
      try {
        unlinkSync(temp);
      } catch {}
      throw error;
    }
  }

  /**
   * Replace the whole content of state.db with the image at `ref`, in one transaction. Tables that
   * the image lacks are emptied; columns are matched by name.
   */
  install(stateDb: Db, ref: SnapshotRef): void {
    const file = this.path(ref.index);
    const size = statSync(file).size;
    if (size !== ref.size) throw new Error(`snapshot ${file} has ${size} bytes, expected ${ref.size}`);
    stateDb.prepare("ATTACH DATABASE ? AS snap").run(file);
    try {
      const tables = (db: "main" | "snap") =>
        stateDb
          .prepare(`SELECT name FROM ${db}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
          .pluck()
          .all() as string[];
      const theirs = new Set(tables("snap"));
      const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
      stateDb.transaction(() => {
        for (const table of tables("main")) {
          stateDb.prepare(`DELETE FROM main.${quote(table)}`).run();
          if (!theirs.has(table)) continue;
          const mine = new Set(
            (stateDb.prepare(`PRAGMA main.table_info(${quote(table)})`).all() as { name: string }[]).map(
              (c) => c.name,
            ),
          );
          const columns = (
            stateDb.prepare(`PRAGMA snap.table_info(${quote(table)})`).all() as { name: string }[]
          )
            .map((c) => c.name)
            .filter((name) => mine.has(name))
            .map(quote)
            .join(", ");
          stateDb
            .prepare(
              `INSERT INTO main.${quote(table)} (${columns}) SELECT ${columns} FROM snap.${quote(table)}`,
            )
            .run();
        }
      })();
    } finally {
      stateDb.prepare("DETACH DATABASE snap").run();
    }
  }

  /**
   * Remove every snapshot other than `keep` (streams already open keep reading), and with
   * `temps` the temp files a crash left (only at start: at run time one may be in use).
   */
  /** Delete the images of indexes before `index` (the latest snapshot recorded, durably). */
  pruneBehind(index: number): void {
    this.remove((_name, image) => image !== null && image < index);
  }

  /** Delete every image but `keep`'s, and with `temps` the temp files a crash left. */
  prune(keep: number, temps = false): void {
    this.remove((name, image) => (temps && name.startsWith(".tmp-")) || (image !== null && image !== keep));
  }

  /** Delete the files of the directory that `doomed` picks (`image`: its index, if it is one). */
  private remove(doomed: (name: string, image: number | null) => boolean): void {
    for (const name of readdirSync(this.dir)) {
      const match = NAME.exec(name);
      if (!doomed(name, match ? Number(match[1]) : null)) continue;
      try {
        unlinkSync(join(this.dir, name));
      } catch {}
    }
  }
}
