import { createHash, timingSafeEqual } from "node:crypto";
import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import { CLUSTER_ID_HEADER, CLUSTER_SECRET_HEADER } from "../../cluster/http-transport.js";
import type { Message } from "../../raft/types.js";

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Node-to-node routes; every one needs the cluster secret, and a refused call changes nothing. */
export function raftRoutes(secret: string, clusterId: string, receive: (message: Message) => void) {
  const expected = digest(secret);
  return new Hono().post("/raft/v1/messages", async (c) => {
    const given = c.req.header(CLUSTER_SECRET_HEADER);
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new CfgError("unauthorized", "node-to-node routes need the cluster secret");
    }
    const theirs = c.req.header(CLUSTER_ID_HEADER);
    if (theirs !== clusterId) {
      throw new CfgError(
        "conflict",
        `message from cluster ${theirs ?? "(none)"}; this node belongs to cluster ${clusterId}`,
      );
    }
    let messages: Message[];
    try {
      messages = JSON.parse(await c.req.text()) as Message[];
    } catch {
      throw new CfgError("bad_request", "the body must be a JSON array of Raft messages");
    }
    if (!Array.isArray(messages))
      throw new CfgError("bad_request", "the body must be a JSON array of Raft messages");
    for (const message of messages) receive(message);
    return c.body(null, 204);
  });
}
