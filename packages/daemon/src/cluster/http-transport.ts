/**
 * Raft messages between nodes over HTTP: one keep-alive undici pool per peer, messages batched
 * while a request is in flight, and a backoff when a peer does not answer (Raft retries on its
 * own, so a failed batch is dropped, never queued without bound).
 */
import { Agent, request } from "undici";
import type { Logger } from "../logger.js";
import type { Message } from "../raft/types.js";
import type { Transport } from "./transport.js";

export const CLUSTER_SECRET_HEADER = "x-cfg-cluster-secret";
export const CLUSTER_ID_HEADER = "x-cfg-cluster-id";
const MAX_BATCH = 512;

interface Peer {
  url: string;
  queue: Message[];
  sending: boolean;
  downUntil: number;
  failures: number;
}

export class HttpTransport implements Transport {
  private readonly peers = new Map<string, Peer>();
  private readonly agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });

  constructor(
    peers: Map<string, string>,
    private readonly secret: string,
    private readonly clusterId: string,
    private readonly logger: Logger,
    private readonly onUnreachable?: (id: string) => void,
  ) {
    for (const [id, url] of peers)
      this.peers.set(id, { url, queue: [], sending: false, downUntil: 0, failures: 0 });
  }

  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const peer = this.peers.get(message.to);
      if (!peer) continue;
      if (peer.downUntil > Date.now()) {
        this.onUnreachable?.(message.to);
        continue;
      }
      if (peer.queue.length < 10 * MAX_BATCH) peer.queue.push(message);
      if (!peer.sending) void this.flush(message.to, peer);
    }
  }

  private async flush(id: string, peer: Peer): Promise<void> {
    peer.sending = true;
    try {
      while (peer.queue.length > 0) {
        const batch = peer.queue.splice(0, MAX_BATCH);
        try {
          const response = await request(`${peer.url}/raft/v1/messages`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              [CLUSTER_SECRET_HEADER]: this.secret,
              [CLUSTER_ID_HEADER]: this.clusterId,
            },
            body: JSON.stringify(batch),
            dispatcher: this.agent,
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          });
          await response.body.dump();
          if (response.statusCode >= 400) throw new Error(`HTTP ${response.statusCode}`);
          peer.failures = 0;
        } catch (error) {
          peer.failures++;
          const backoff = Math.min(2_000, 50 * 2 ** Math.min(peer.failures, 6));
          peer.downUntil = Date.now() + backoff;
          peer.queue.length = 0;
          if (peer.failures === 1 || peer.failures % 20 === 0) {
            this.logger.warn("peer unreachable", {
              peer: id,
              error: (error as Error).message,
              backoffMs: backoff,
            });
          }
          this.onUnreachable?.(id);
          return;
        }
      }
    } finally {
      peer.sending = false;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
