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
 *
 * Requests are keyed by asker and id (the key rides in the heartbeat's context), so two nodes that
 * happen to pick the same id cannot confirm each other's reads with an older round.
 */
export class ReadOnly {
  private queue: { key: string; read: PendingRead }[] = [];
  private readonly byKey = new Map<string, PendingRead>();

  static key(from: NodeId, requestId: string): string {
    return JSON.stringify([from, requestId]);
  }

  /** Queue a read; returns its key, or undefined when the same asker reused a pending id. */
  add(read: PendingRead): string | undefined {
    const key = ReadOnly.key(read.from, read.requestId);
    if (this.byKey.has(key)) return undefined;
    this.byKey.set(key, read);
    this.queue.push({ key, read });
    return key;
  }

  lastKey(): string | undefined {
    return this.queue[this.queue.length - 1]?.key;
  }

  /** Record `from`'s acknowledgement of the round for `key`; returns that request's acks. */
  recvAck(from: NodeId, key: string): Set<NodeId> | undefined {
    const read = this.byKey.get(key);
    if (!read) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /** Take every request up to and including `key`. */
  advance(key: string): PendingRead[] {
    if (!this.byKey.has(key)) return [];
    const at = this.queue.findIndex((r) => r.key === key);
    const done = this.queue.splice(0, at + 1);
    for (const r of done) this.byKey.delete(r.key);
    return done.map((r) => r.read);
  }

  reset(): void {
    this.queue = [];
    this.byKey.clear();
  }

  get size(): number {
    return this.queue.length;
  }
}
