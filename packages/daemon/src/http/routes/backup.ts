import { Readable } from "node:stream";
import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import { type BackupHeader, backupStream } from "../../storage/backup.js";
import type { AuthEnv } from "../middleware/auth.js";

export type TakeImage = () => Promise<{ header: BackupHeader; path: string; cleanup(): void }>;

/**
 * GET /v1/backup: a consistent backup of this node's state, streamed (see storage/backup.ts). In
 * a cluster it first confirms with the leader (ReadIndex), so a follower's backup holds every
 * write committed before the request. Cluster admins only: it holds every project.
 */
export function backupRoutes(take: TakeImage) {
  return new Hono<AuthEnv>().get("/v1/backup", async (c) => {
    if (!c.get("principal").admin) {
      throw new CfgError("forbidden", "a backup holds every project: it needs a cluster admin token");
    }
    const image = await take();
    const stream = backupStream(image.header, image.path);
    stream.once("close", image.cleanup);
    c.header("Content-Type", "application/octet-stream");
    c.header("Content-Disposition", `attachment; filename="cfgd-${image.header.appliedIndex}.cfgbackup"`);
    c.header("X-Cfg-Backup-Applied-Index", String(image.header.appliedIndex));
    return c.body(Readable.toWeb(stream) as ReadableStream);
  });
}
