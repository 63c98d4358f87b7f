import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openClusterNode } from "../daemon.js";
import { errorHandler } from "../http/middleware/errors.js";
import { raftRoutes } from "../http/routes/raft.js";
import { silentLogger } from "../logger.js";
import type { Message } from "../raft/types.js";
import { CLUSTER_ID_HEADER, CLUSTER_SECRET_HEADER, encodeFrame } from "./http-transport.js";

const SECRET = "a-cluster-secret-of-some-length";

describe("cluster identity", () => {
  it("refuses a data directory of another node or one founded with another secret", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfgd-id-"));
    const peers = new Map([
      ["n1", "http://127.0.0.1:1"],
      ["n2", "http://127.0.0.1:2"],
      ["n3", "http://127.0.0.1:3"],
    ]);
    const first = await openClusterNode(dir, { nodeId: "n1", peers, secret: SECRET }, silentLogger);
    const id = first.clusterId;
    await first.close();
    // After bootstrap --peers is only a contact list: a changed list (a member added) is fine.
    const other = new Map([...peers, ["n4", "http://127.0.0.1:4"]]);
    const again = await openClusterNode(dir, { nodeId: "n1", peers: other, secret: SECRET }, silentLogger);
    expect(again.clusterId).toBe(id);
    await again.close();
    await expect(
      openClusterNode(dir, { nodeId: "n1", peers, secret: `${SECRET}-other` }, silentLogger),
    ).rejects.toThrow(/founded with another --cluster-secret/);
    await expect(openClusterNode(dir, { nodeId: "n2", peers, secret: SECRET }, silentLogger)).rejects.toThrow(
      /belongs to node n1/,
    );
    // Founders of another member set make another cluster.
    const elsewhere = mkdtempSync(join(tmpdir(), "cfgd-id-"));
    const second = await openClusterNode(
      elsewhere,
      { nodeId: "n1", peers: other, secret: SECRET },
      silentLogger,
    );
    expect(second.clusterId).not.toBe(id);
    await second.close();
  });

  it("--join refuses to start a node the cluster has not added", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfgd-id-"));
    const peers = new Map([["n1", "http://127.0.0.1:9"]]);
    await expect(
      openClusterNode(dir, { nodeId: "n4", peers, secret: SECRET, join: true }, silentLogger),
    ).rejects.toThrow(/--join: no member in --peers answered/);
  });

  it("node-to-node routes refuse a wrong secret (401) or another cluster's messages (409), delivering nothing", async () => {
    const received: Message[] = [];
    const app = raftRoutes({ secret: SECRET, clusterId: "abc", receive: (m) => received.push(m) });
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

describe("the Raft stream route", () => {
  it("delivers framed messages in order across any chunking, and refuses a wrong secret or an oversized frame", async () => {
    const received: Message[] = [];
    const app = raftRoutes({ secret: SECRET, clusterId: "abc", receive: (m) => received.push(m) });
    app.onError(errorHandler(silentLogger));
    const messages: Message[] = Array.from({ length: 5 }, (_, i) => ({
      type: "heartbeat",
      from: "n2",
      to: "n1",
      term: i + 1,
    }));
    const bytes = Buffer.concat([encodeFrame(messages.slice(0, 2)), encodeFrame(messages.slice(2))]);
    // Cut into 3-byte pieces: frames and even length prefixes arrive split.
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const headers = { [CLUSTER_SECRET_HEADER]: SECRET, [CLUSTER_ID_HEADER]: "abc" };
    const ok = await app.request("/raft/v1/stream", {
      method: "POST",
      headers,
      body,
      duplex: "half",
    } as RequestInit);
    expect(ok.status).toBe(204);
    expect(received).toEqual(messages);
    received.length = 0;
    const refused = await app.request("/raft/v1/stream", {
      method: "POST",
      headers: { [CLUSTER_ID_HEADER]: "abc" },
      body: encodeFrame(messages),
    });
    expect(refused.status).toBe(401);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(0xffffffff, 0);
    expect((await app.request("/raft/v1/stream", { method: "POST", headers, body: huge })).status).toBe(400);
    expect(received).toEqual([]);
  });
});
