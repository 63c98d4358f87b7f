import { hash, timingSafeEqual } from "node:crypto";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { FrameError, FrameReader } from "../../cluster/frames.js";
import {
  CLUSTER_ID_HEADER,
  CLUSTER_SECRET_HEADER,
  RAFT_MESSAGE_HEADER,
} from "../../cluster/http-transport.js";
import type { Message } from "../../raft/types.js";
import { decodeRef, type SnapshotStore } from "../../storage/snapshot-store.js";
import { bodyText, incomingOf } from "../request.js";

const digest = (text: string) => hash("sha256", text, "buffer");

export interface RaftRouteDeps {
  secret: string;
  clusterId: string;
  receive: (message: Message) => void;
  /** Where a streamed snapshot is stored (checked and durable) before its message is stepped. */
  snapshots?: SnapshotStore;
  /** The sockets of open peer streams, so that a stopping node can close them. */
  streams?: Set<Socket>;
  /** What a node starting with --join needs: the cluster id and the members it can contact. */
  joinInfo?: () => {
    clusterId: string;
    members: { id: string; url: string; voter: boolean; learner: boolean }[];
  };
}

/** Node-to-node routes; every one needs the cluster secret, and a refused call changes nothing. */
export function raftRoutes(deps: RaftRouteDeps) {
  const expected = digest(deps.secret);
  const secretOnly = createMiddleware(async (c, next) => {
    const given = c.req.header(CLUSTER_SECRET_HEADER);
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new CfgError("unauthorized", "node-to-node routes need the cluster secret");
    }
    await next();
  });
  const sameCluster = createMiddleware(async (c, next) => {
    const theirs = c.req.header(CLUSTER_ID_HEADER);
    if (theirs !== deps.clusterId) {
      throw new CfgError(
        "conflict",
        `message from cluster ${theirs ?? "(none)"}; this node belongs to cluster ${deps.clusterId}`,
      );
    }
    await next();
  });
  return new Hono()
    .use("/raft/v1/*", secretOnly)
    .get("/raft/v1/join-info", (c) => {
      if (!deps.joinInfo) throw new CfgError("not_found", "this node cannot describe its cluster yet");
      return c.json(deps.joinInfo());
    })
    .post("/raft/v1/messages", sameCluster, async (c) => {
      let messages: Message[];
      try {
        messages = JSON.parse(await bodyText(c)) as Message[];
      } catch {
        throw new CfgError("bad_request", "the body must be a JSON array of Raft messages");
      }
      if (!Array.isArray(messages))
        throw new CfgError("bad_request", "the body must be a JSON array of Raft messages");
      for (const message of messages) deps.receive(message);
      return c.body(null, 204);
    })
    .post("/raft/v1/stream", sameCluster, async (c) => {
      // A peer's long-lived stream: frames of [4-byte length][JSON Message[]] until it ends.
      const incoming = incomingOf(c);
      // Open streams never end by themselves: the node closes them when it stops.
      if (incoming) deps.streams?.add(incoming.socket);
      try {
        const source: AsyncIterable<Buffer> =
          incoming ?? (c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : Readable.from([]));
        const reader = new FrameReader();
        for await (const chunk of source) {
          let frames: Message[][];
          try {
            frames = reader.push(chunk);
          } catch (error) {
            if (error instanceof FrameError) throw new CfgError("bad_request", error.message);
            throw error;
          }
          for (const messages of frames) for (const message of messages) deps.receive(message);
        }
      } finally {
        if (incoming) deps.streams?.delete(incoming.socket);
      }
      return c.body(null, 204);
    })
    .post("/raft/v1/snapshot", sameCluster, async (c) => {
      // The body is the state.db image, streamed; the message (with the image's size and
      // SHA-256 in snapshot.data) comes in a header. It is stepped only once the image is stored.
      if (!deps.snapshots) throw new CfgError("unavailable", "this node takes no snapshots");
      let message: Message;
      try {
        message = JSON.parse(
          Buffer.from(c.req.header(RAFT_MESSAGE_HEADER) ?? "", "base64url").toString("utf8"),
        ) as Message;
      } catch {
        throw new CfgError("bad_request", `the ${RAFT_MESSAGE_HEADER} header must hold the snapshot message`);
      }
      if (message?.type !== "snapshot" || !message.snapshot) {
        throw new CfgError("bad_request", "the message must be a snapshot message");
      }
      let ref: ReturnType<typeof decodeRef>;
      try {
        ref = decodeRef(message.snapshot.data);
      } catch (error) {
        throw new CfgError("bad_request", (error as Error).message);
      }
      const body = c.req.raw.body;
      if (!body) throw new CfgError("bad_request", "the snapshot image is missing from the body");
      try {
        await deps.snapshots.receive(body, ref);
      } catch (error) {
        throw new CfgError("bad_request", `snapshot ${ref.index} not stored: ${(error as Error).message}`);
      }
      deps.receive(message);
      return c.body(null, 204);
    });
}
