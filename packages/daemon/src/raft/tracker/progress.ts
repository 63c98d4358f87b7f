import type { ProgressState } from "../types.js";
import { Inflights } from "./inflights.js";

/**
 * The leader's view of one follower. Probe: one append at a time until the follower's match is
 * found. Replicate: pipelined appends within the inflight window. Snapshot: waiting for a
 * snapshot to be installed.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = "probe";
  /** In probe state: an append is out, wait for its answer (or a heartbeat answer). */
  probeSent = false;
  pendingSnapshot = 0;
  /** Ticks spent in snapshot state, to give up on a snapshot that was lost. */
  snapshotTicks = 0;
  recentActive = false;
  /** The commit index the last append to this follower carried. */
  sentCommit = 0;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflight: number,
    public isLearner: boolean,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === "snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("probe");
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState("replicate");
    this.next = this.match + 1;
  }

  becomeSnapshot(index: number): void {
    this.resetState("snapshot");
    this.pendingSnapshot = index;
  }

  /** An acknowledgement up to `index`; returns whether it was news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** A rejection of the append after `rejected`; `matchHint` is where the logs may agree. */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "replicate") {
      if (rejected <= this.match) return false; // stale
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false; // stale
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.inflights.full();
      default:
        return true;
    }
  }
}
