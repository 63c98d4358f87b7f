import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../../auth/admin-token.js";
import { openNode } from "../../daemon.js";
import { silentLogger } from "../../logger.js";
import { EmbeddedMetadataStore } from "../../metadata/embedded/embedded-store.js";
import { IdentityService } from "../../services/identity-service.js";
import { WatchService } from "../../services/watch-service.js";
import { createApp } from "../app.js";

const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-watch-access-")));
afterAll(() => node.close());
const identity = new IdentityService(new EmbeddedMetadataStore(node.log, node.machine.store.db), {
  logger: silentLogger,
});
const app = createApp({
  service: node.service,
  authenticator: new AdminTokenAuthenticator("cfgt_admin"),
  identity,
  logger: silentLogger,
  ready: () => true,
  limits: { maxValueBytes: 1024, maxBodyBytes: 64 * 1024 },
  watch: new WatchService(node.machine),
});

/** Read a stream until it ends or `ms` pass; true when it ended. */
async function endsWithin(body: ReadableStream<Uint8Array>, ms: number): Promise<boolean> {
  const reader = body.getReader();
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const next = await Promise.race([
      reader.read(),
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), deadline - Date.now())),
    ]);
    if (next === "timeout") break;
    if (next.done) return true;
  }
  await reader.cancel();
  return false;
}

describe("open watches and revoked access", () => {
  it("a watch with an API key ends as soon as the key is revoked", async () => {
    await node.service.createProject("shop", "test");
    const root = { subject: "admin", admin: true, kind: "admin-token" as const };
    const kept = await identity.createApiKey("shop", "kept", root);
    const revoked = await identity.createApiKey("shop", "revoked", root);
    const open = (key: string) =>
      app.request("/v1/watch/shop?heartbeat=60s", { headers: { authorization: `Bearer ${key}` } });
    const a = await open(kept.key);
    const b = await open(revoked.key);
    expect([a.status, b.status]).toEqual([200, 200]);
    await identity.revokeApiKey("shop", revoked.id);
    expect(await endsWithin(b.body!, 2_000)).toBe(true);
    expect(await endsWithin(a.body!, 300)).toBe(false);
  });
});
