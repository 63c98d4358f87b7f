/**
 * Backups: one file holding a consistent image of a node's state.db (everything the cluster
 * stores: projects, configs with every version, revisions with git provenance, schema sets and
 * the metadata kept in state.db), behind a header that says what it is and lets a restore check
 * it:
 *
 *   CFGBACKUP 1\n
 *   {"format":1,"createdAt":...,"appliedIndex":...,"clusterId":...,"nodeId":...,"size":N,"sha256":...}\n
 *   <N bytes: the SQLite image>
 *
 * Writing: the image is made with VACUUM INTO (one read transaction: exactly the state at one
 * applied index, while the node goes on serving), the file is written to a temp name, fsynced
 * and renamed. Restoring: the header and the image's SHA-256 are checked before anything is
 * written; the image becomes state.db of a new data directory with its applied index reset to 0
 * and no cluster membership, so a new log (one node, or a new cluster) starts on top of it.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import Database from "better-sqlite3";
import { deriveClusterId } from "../cluster/cluster-id.js";
import { encodeRef, SnapshotStore } from "./snapshot-store.js";
import { type Db, openDatabase } from "./sqlite.js";
import { SqliteRaftStorage } from "./sqlite-raft-storage.js";

export const BACKUP_MAGIC = "CFGBACKUP 1\n";

export interface BackupHeader {
  format: 1;
  createdAt: string;
  /** The applied index of the node the image was taken from. */
  appliedIndex: number;
  clusterId: string | null;
  nodeId: string | null;
  /** Bytes of the SQLite image that follows the header. */
  size: number;
  sha256: string;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function hashFile(path: string, offset = 0): { sha256: string; size: number } {
  const hash = createHash("sha256");
  const fd = openSync(path, "r");
  const buffer = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  try {
    for (let position = offset; ; ) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      size += n;
      position += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest("hex"), size };
}

/**
 * A consistent image of `stateDb` in a temp file next to `nearDir`, with its header. The caller
 * streams it (imageStream) and then calls cleanup().
 */
export function takeImage(
  stateDb: Db,
  nearDir: string,
  identity: { clusterId: string | null; nodeId: string | null },
): { header: BackupHeader; path: string; cleanup(): void } {
  const path = join(nearDir, `.backup-${process.pid}-${randomBytes(6).toString("hex")}.db`);
  try {
    stateDb.prepare("VACUUM INTO ?").run(path);
    const image = new Database(path, { readonly: true });
    let applied: number;
    try {
      applied = Number(
        (image.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get() as string | undefined) ??
          0,
      );
    } finally {
      image.close();
    }
    const { sha256, size } = hashFile(path);
    return {
      header: {
        format: 1,
        createdAt: new Date().toISOString(),
        appliedIndex: applied,
        ...identity,
        size,
        sha256,
      },
      path,
      cleanup: () => {
        try {
          unlinkSync(path);
        } catch {}
      },
    };
  } catch (error) {
    try {
      unlinkSync(path);
    } catch {}
    throw error;
  }
}

/** The backup file's bytes: magic, header line, image. */
export function backupStream(header: BackupHeader, imagePath: string): Readable {
  const head = Buffer.from(`${BACKUP_MAGIC}${JSON.stringify(header)}\n`, "utf8");
  return Readable.from(
    (async function* () {
      yield head;
      for await (const chunk of createReadStream(imagePath, { highWaterMark: 1 << 20 }))
        yield chunk as Buffer;
    })(),
  );
}

/** Read and check a backup file's header and image; throws with what is wrong. */
export function inspectBackup(file: string): { header: BackupHeader; imageOffset: number } {
  const fd = openSync(file, "r");
  let head: string;
  try {
    const buffer = Buffer.alloc(8192);
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, n).toString("latin1");
  } finally {
    closeSync(fd);
  }
  if (!head.startsWith(BACKUP_MAGIC)) {
    throw new Error(
      `${file} is not a cfgd backup (it does not start with ${JSON.stringify(BACKUP_MAGIC.trim())})`,
    );
  }
  const end = head.indexOf("\n", BACKUP_MAGIC.length);
  if (end < 0) throw new Error(`${file}: the backup header is cut short`);
  let header: BackupHeader;
  try {
    header = JSON.parse(head.slice(BACKUP_MAGIC.length, end)) as BackupHeader;
  } catch {
    throw new Error(`${file}: the backup header is not valid JSON`);
  }
  if (header.format !== 1 || typeof header.size !== "number" || typeof header.sha256 !== "string") {
    throw new Error(`${file}: unknown backup format ${JSON.stringify(header.format)}`);
  }
  const imageOffset = end + 1;
  const { sha256, size } = hashFile(file, imageOffset);
  if (size !== header.size) {
    throw new Error(
      `${file} is damaged or cut short: the image has ${size} bytes, the header says ${header.size}`,
    );
  }
  if (sha256 !== header.sha256) throw new Error(`${file} is damaged: its SHA-256 does not match its header`);
  return { header, imageOffset };
}

/** Write a backup file atomically from a stream of its bytes, then check it. */
export async function saveBackup(source: AsyncIterable<Uint8Array>, file: string): Promise<BackupHeader> {
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, "w", 0o600);
  try {
    for await (const chunk of source) writeSync(fd, chunk);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  let header: BackupHeader;
  try {
    header = inspectBackup(temp).header;
  } catch (error) {
    unlinkSync(temp);
    throw error;
  }
  renameSync(temp, file);
  fsyncPath(dirname(file));
  return header;
}

/**
 * Make `dataDir` (new or empty) a data directory whose state is the backup's: checked first,
 * then state.db written (temp, fsync, rename) with applied index 0 and no cluster members.
 */
export function restoreBackup(
  file: string,
  dataDir: string,
  cluster?: { nodeId: string; peers: Map<string, string>; secret: string },
): { header: BackupHeader; projects: number; keys: number } {
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new Error(`${dataDir} is not empty; restore into a new data directory (nothing was changed)`);
  }
  if (cluster && !cluster.peers.has(cluster.nodeId)) {
    throw new Error(`--peers must list this node (${cluster.nodeId}) with the other founding members`);
  }
  const { header, imageOffset } = inspectBackup(file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temp = join(dataDir, `.restore-${process.pid}.db`);
  const out = openSync(temp, "w", 0o600);
  const input = openSync(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (let position = imageOffset; ; ) {
      const n = readSync(input, buffer, 0, buffer.length, position);
      if (n === 0) break;
      writeSync(out, buffer, 0, n);
      position += n;
    }
    fsyncSync(out);
  } finally {
    closeSync(out);
    closeSync(input);
  }
  // A new log starts at index 1 on top of this state: nothing of the old log or membership stays.
  const db = new Database(temp);
  let projects = 0;
  let keys = 0;
  try {
    db.pragma("journal_mode = DELETE");
    // In a new cluster the image is the snapshot at index N (the number of founders), with the
    // founders as members; alone, the state a new log starts on at index 1.
    const founders = cluster ? [...cluster.peers.keys()].sort() : [];
    db.transaction(() => {
      db.prepare(
        "INSERT INTO meta (k, v) VALUES ('applied_index', ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
      ).run(String(founders.length));
      db.prepare("DELETE FROM cluster_members").run();
      const add = db.prepare("INSERT INTO cluster_members (id, url, promote) VALUES (?, ?, 0)");
      for (const id of founders) add.run(id, cluster!.peers.get(id)!);
    })();
    projects = db.prepare("SELECT COUNT(*) FROM projects").pluck().get() as number;
    keys = db.prepare("SELECT COUNT(*) FROM configs").pluck().get() as number;
  } finally {
    db.close();
  }
  fsyncPath(temp);
  if (cluster) writeClusterStart(temp, dataDir, cluster);
  renameSync(temp, join(dataDir, "state.db"));
  fsyncPath(dataDir);
  return { header, projects, keys };
}

/**
 * A founder's raft.db for a cluster that starts from a restored state: the image recorded as
 * the snapshot at index N (term 1, the founders as voters), an empty log after it, commit N, and
 * the cluster id that founding with these members and secret gives. A member added later gets
 * the snapshot (the entries before N+1 are not in any log), so it holds the restored data too.
 */
function writeClusterStart(
  image: string,
  dataDir: string,
  cluster: { nodeId: string; peers: Map<string, string>; secret: string },
): void {
  const founders = [...cluster.peers.keys()].sort();
  const index = founders.length;
  const snapshots = new SnapshotStore(dataDir);
  const target = snapshots.path(index);
  copyFileSync(image, target);
  fsyncPath(target);
  fsyncPath(snapshots.dir);
  const { sha256, size } = hashFile(target);
  const raftDb = openDatabase(join(dataDir, "raft.db"), true);
  try {
    const storage = new SqliteRaftStorage(raftDb);
    raftDb.transaction(() => {
      storage.applySnapshot({
        meta: { index, term: 1, confState: { voters: founders, learners: [] } },
        data: encodeRef({ index, size, sha256 }),
      });
      storage.setHardState({ term: 1, vote: null, commit: index });
      storage.setMeta("cluster_id", deriveClusterId(cluster.secret, founders));
      storage.setMeta("node_id", cluster.nodeId);
      storage.setMeta("founders", founders.join(","));
    })();
  } finally {
    raftDb.close();
  }
}
