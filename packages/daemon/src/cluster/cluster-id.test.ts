import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openClusterNode } from "../daemon.js";
import { errorHandler } from "../http/middleware/errors.js";
import { raftRoutes } from "../http/routes/raft.js";
import { silentLogger } from "../logger.js";
import type { Message } from "../raft/types.js";
import { CLUSTER_ID_HEADER, CLUSTER_SECRET_HEADER } from "./http-transport.js";

const SECRET = "a-cluster-secret-of-some-length";

describe("cluster identity", () => {
  it("refuses to run a data directory made by another cluster", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfgd-id-"));
    const peers = new Map([
      ["n1", "http://127.0.0.1:1"],
      ["n2", "http://127.0.0.1:2"],
      ["n3", "http://127.0.0.1:3"],
    ]);
    const first = openClusterNode(dir, { nodeId: "n1", peers, secret: SECRET }, silentLogger);
    const id = first.clusterId;
    await first.close();
    const again = openClusterNode(dir, { nodeId: "n1", peers, secret: SECRET }, silentLogger);
    expect(again.clusterId).toBe(id);
    await again.close();
    const other = new Map([...peers, ["n4", "http://127.0.0.1:4"]]);
    expect(() => openClusterNode(dir, { nodeId: "n1", peers: other, secret: SECRET }, silentLogger)).toThrow(
      /belongs to cluster .* use a new --data-dir/,
    );
  });

  it("node-to-node routes refuse a wrong secret (401) or another cluster's messages (409), delivering nothing", async () => {
    const received: Message[] = [];
    const app = raftRoutes(SECRET, "abc", (m) => received.push(m));
    app.onError(errorHandler(silentLogger));
    const message: Message = { type: "heartbeat", from: "n2", to: "n1", term: 1 };
    const post = (headers: Record<string, string>) =>
      app.request("/raft/v1/messages", { method: "POST", headers, body: JSON.stringify([message]) });
    expect((await post({ [CLUSTER_SECRET_HEADER]: "wrong", [CLUSTER_ID_HEADER]: "abc" })).status).toBe(401);
    expect((await post({ [CLUSTER_ID_HEADER]: "abc" })).status).toBe(401);
    expect((await post({ [CLUSTER_SECRET_HEADER]: SECRET, [CLUSTER_ID_HEADER]: "xyz" })).status).toBe(409);
    expect(received).toEqual([]);
    expect((await post({ [CLUSTER_SECRET_HEADER]: SECRET, [CLUSTER_ID_HEADER]: "abc" })).status).toBe(204);
    expect(received).toEqual([message]);
  });
});
