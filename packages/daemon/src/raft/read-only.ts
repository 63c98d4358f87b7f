import type { NodeId } from "./types.js";

export interface PendingRead {
  requestId: string;
  /** The leader's commit index when the read arrived: the read is served at or after it. */
  index: number;
  /** Who asked: the leader itself or a follower that forwarded it. */
  from: NodeId;
  acks: Set<NodeId>;
}

/**
 * ReadIndex reads waiting for a heartbeat round to confirm that the leader still leads. When a
 * quorum acknowledges a request's heartbeat, it and every request before it are confirmed.
 */
export class ReadOnly {
  private queue: PendingRead[] = [];

  add(read: PendingRead): void {
    this.queue.push(read);
  }

  lastRequestId(): string | undefined {
    return this.queue[this.queue.length - 1]?.requestId;
  }

  /** Record `from`'s acknowledgement of `requestId`; returns the acks of that request. */
  recvAck(from: NodeId, requestId: string): Set<NodeId> | undefined {
    const read = this.queue.find((r) => r.requestId === requestId);
    if (!read) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Take every request up to and including `requestId`. */
  advance(requestId: string): PendingRead[] {
    const at = this.queue.findIndex((r) => r.requestId === requestId);
    if (at < 0) return [];
    return this.queue.splice(0, at + 1);
  }

  reset(): void {
    this.queue = [];
  }

  get size(): number {
    return this.queue.length;
  }
}
