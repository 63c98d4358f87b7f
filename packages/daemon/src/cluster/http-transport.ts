/**
 * Raft messages between nodes over HTTP. To each peer, one long-lived POST /raft/v1/stream whose
 * chunked body carries the messages as frames (4-byte length, then a JSON array), like etcd's
 * stream transport: no request, headers, routing or response per batch. The messages of one
 * send() call go in one frame (split near 4 MiB, see frames.ts). Appends with entries
 * take the stream too: a request per append cost a quarter of the write throughput.
 *
 * A stream can die without telling us (a peer host that vanishes, a middlebox that drops the
 * connection): writes then vanish until TCP gives up, minutes later. So a stream over which the
 * peer has not been heard from (any message from it, as the node records) for STALE_MS is
 * replaced by a new one; a peer that is really gone then fails to connect and is backed off. When the stream fails (the peer is down or restarts) the node backs off and
 * opens a new one; messages lost on the way are sent again by Raft itself.
 *
 * Frames are written to the socket in the call to send(), not later: a leader sends its appends
 * before it writes them to its own disk (Ready.leaderMaySendFirst), and they must be on the wire
 * while it fsyncs, which blocks this thread. So the stream is a node:http request whose writes
 * reach the socket at once (undici pulls a body stream on a later turn of the event loop).
 *
 * A snapshot message travels on its own request: the state.db image is streamed from its file as
 * the body (in 1 MiB chunks, with backpressure) and the message rides in a header. The core hears
 * whether it arrived (reportSnapshot), so a failed stream is retried from a fresh probe.
 */
import { type ClientRequest, request as httpRequest } from "node:http";
import { Agent, request } from "undici";
import type { Logger } from "../logger.js";
import type { Message } from "../raft/types.js";
import { decodeRef, type SnapshotStore } from "../storage/snapshot-store.js";
import { type EncodedEntries, encodeFrames } from "./frames.js";
import type { Transport } from "./transport.js";

export const CLUSTER_SECRET_HEADER = "x-cfg-cluster-secret";
export const CLUSTER_ID_HEADER = "x-cfg-cluster-id";
export const RAFT_MESSAGE_HEADER = "x-cfg-raft-message";
const MAX_BATCH = 512;
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const STALE_MS = 1_500;

interface Peer {
  url: string;
  queue: Message[];
  stream: ClientRequest | null;
  openedAt: number;
  downUntil: number;
  failures: number;
}

export { encodeFrame } from "./frames.js";

export class HttpTransport implements Transport {
  private readonly peers = new Map<string, Peer>();
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });

  constructor(
    peers: Map<string, string>,
    private readonly secret: string,
    private readonly clusterId: string,
    private readonly logger: Logger,
    private readonly onUnreachable?: (id: string) => void,
    private readonly snapshots?: SnapshotStore,
    private readonly onSnapshotSent?: (id: string, ok: boolean) => void,
    /** When this node last heard from a peer (Date.now()), to notice a dead stream. */
    private readonly lastHeard?: (id: string) => number | undefined,
  ) {
    this.setPeers(peers);
  }

  /** The peers to talk to, after a membership change: new ones are added, removed ones dropped. */
  setPeers(peers: Map<string, string>): void {
    for (const [id, peer] of this.peers) {
      if (peers.has(id)) continue;
      peer.stream?.end();
      this.peers.delete(id);
    }
    for (const [id, url] of peers) {
      const peer = this.peers.get(id);
      if (peer) peer.url = url;
      else
        this.peers.set(id, {
          url,
          queue: [],
          stream: null,
          openedAt: 0,
          downUntil: 0,
          failures: 0,
        });
    }
  }

  send(messages: readonly Message[]): void {
    const touched = new Set<Peer>();
    for (const message of messages) {
      const peer = this.peers.get(message.to);
      if (!peer) continue;
      if (message.type === "snapshot") {
        void this.sendSnapshot(message, peer);
        continue;
      }
      if (peer.downUntil > Date.now()) {
        this.onUnreachable?.(message.to);
        continue;
      }
      if (peer.queue.length < 10 * MAX_BATCH) peer.queue.push(message);
      touched.add(peer);
    }
    // The entries of one send go to every follower alike: each is encoded once.
    const encoded: EncodedEntries | undefined = touched.size > 1 ? new Map() : undefined;
    for (const [id, peer] of this.peers) if (touched.has(peer)) this.flush(id, peer, encoded);
  }

  private flush(id: string, peer: Peer, encoded?: EncodedEntries): void {
    if (peer.queue.length === 0 || this.peers.get(id) !== peer) return;
    const now = Date.now();
    if (peer.stream && now - peer.openedAt > STALE_MS && now - (this.lastHeard?.(id) ?? 0) > STALE_MS) {
      // Nothing heard from the peer over this stream for a while: it may be dead. Start afresh.
      const stale = peer.stream;
      peer.stream = null;
      stale.destroy();
    }
    const stream = peer.stream ?? this.open(id, peer);
    // A peer that takes nothing (paused, or a connection that hangs): drop the stream rather
    // than buffer without bound; Raft sends again once a new one is open. The check comes before
    // the write, so that one batch larger than the bound still goes out on a stream that flows.
    if (stream.writableLength <= MAX_BUFFERED_BYTES) {
      // Corked, so that each frame and its chunk header leave in one write.
      stream.cork();
      for (const frame of encodeFrames(peer.queue, encoded)) stream.write(frame);
      stream.uncork();
      peer.queue.length = 0;
    } else {
      peer.queue.length = 0;
      peer.stream = null;
      stream.destroy();
      this.ended(id, peer, null, new Error(`${stream.writableLength} bytes not taken by the peer`), now);
    }
  }

  /** Open the long-lived stream to `peer`; frames written before it connects wait in it. */
  private open(id: string, peer: Peer): ClientRequest {
    const openedAt = Date.now();
    const stream = httpRequest(`${peer.url}/raft/v1/stream`, {
      method: "POST",
      headers: {
        "content-type": "application/x-cfg-raft-frames",
        "transfer-encoding": "chunked",
        [CLUSTER_SECRET_HEADER]: this.secret,
        [CLUSTER_ID_HEADER]: this.clusterId,
      },
      // Its own connection: the stream holds it for as long as it lives.
      agent: false,
    });
    stream.setNoDelay(true);
    peer.stream = stream;
    peer.openedAt = openedAt;
    let done = false;
    const end = (error: Error | null) => {
      if (done) return;
      done = true;
      this.ended(id, peer, stream, error, openedAt);
    };
    // The answer comes only when the stream ends.
    stream.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (error) => end(error));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        end(
          (response.statusCode ?? 500) >= 400
            ? new Error(`HTTP ${response.statusCode} ${text.slice(0, 200)}`)
            : null,
        );
      });
    });
    stream.on("error", (error) => end(error));
    stream.on("close", () => end(new Error("the stream closed")));
    stream.flushHeaders();
    return stream;
  }

  private ended(
    id: string,
    peer: Peer,
    body: ClientRequest | null,
    error: Error | null,
    openedAt: number,
  ): void {
    if (body && peer.stream !== body) {
      // A stream replaced by a newer one (stale, or overflowing): its end is not news.
      body.destroy();
      return;
    }
    if (body && peer.stream === body) peer.stream = null;
    body?.destroy();
    if (!error || this.closed) return;
    // A stream that worked for a while is a fresh failure, not one more of a series.
    if (Date.now() - openedAt > 1_000) peer.failures = 0;
    peer.failures++;
    const backoff = Math.min(2_000, 50 * 2 ** Math.min(peer.failures, 6));
    peer.downUntil = Date.now() + backoff;
    peer.queue.length = 0;
    if (peer.failures === 1 || peer.failures % 20 === 0) {
      this.logger.warn("peer unreachable", { peer: id, error: error.message, backoffMs: backoff });
    }
    this.onUnreachable?.(id);
  }

  private async sendSnapshot(message: Message, peer: Peer): Promise<void> {
    const started = Date.now();
    try {
      if (!this.snapshots) throw new Error("no snapshot store");
      const ref = decodeRef(message.snapshot!.data);
      const response = await request(`${peer.url}/raft/v1/snapshot`, {
        method: "POST",
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(ref.size),
          [CLUSTER_SECRET_HEADER]: this.secret,
          [CLUSTER_ID_HEADER]: this.clusterId,
          [RAFT_MESSAGE_HEADER]: Buffer.from(JSON.stringify(message)).toString("base64url"),
        },
        body: this.snapshots.open(ref),
        dispatcher: this.agent,
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
      const text = await response.body.text();
      if (response.statusCode >= 400) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
      this.logger.info("snapshot sent", {
        peer: message.to,
        index: ref.index,
        bytes: ref.size,
        ms: Date.now() - started,
      });
      this.onSnapshotSent?.(message.to, true);
    } catch (error) {
      this.logger.warn("snapshot not sent", { peer: message.to, error: (error as Error).message });
      this.onSnapshotSent?.(message.to, false);
    }
  }

  private closed = false;

  async close(): Promise<void> {
    this.closed = true;
    for (const peer of this.peers.values()) peer.stream?.destroy();
    await this.agent.close();
  }
}
