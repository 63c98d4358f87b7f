/**
 * When a member takes its automatic snapshots. Each takes one every `every` applied entries, at
 * its own point of them: members at evenly spaced points by their place among the sorted member
 * ids, so that no two image state.db at once (all at the same index, the members of a cluster on
 * one machine wrote their images to one disk together, with no member left idle to make the
 * quorum). Pure: the driver (raft-node.ts) asks after each applied batch.
 */
import type { ConfState } from "../raft/types.js";

/** This member's point in each `every` entries: 0, every/n, 2 every/n... by its sorted place. */
export function snapshotPhase(id: string, confState: ConfState, every: number): number {
  const members = [...confState.voters, ...confState.learners].sort();
  const rank = Math.max(0, members.indexOf(id));
  return Math.floor((every * rank) / Math.max(1, members.length));
}

/**
 * Due when `applied` has passed a point `phase + k * every` that the last snapshot (at `last`)
 * had not, and at least half of `every` entries lie between the two: a snapshot installed from
 * the leader just before a point does not bring another at once. The driver asks after every
 * applied batch, so `phase` is asked for only past that half.
 */
export function snapshotDue(applied: number, last: number, every: number, phase: () => number): boolean {
  if (applied - last < Math.ceil(every / 2)) return false;
  const at = phase();
  return Math.floor((applied - at) / every) > Math.floor((last - at) / every);
}
