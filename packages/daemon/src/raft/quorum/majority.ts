import type { NodeId } from "../types.js";

export type VoteResult = "won" | "lost" | "pending";

/** The highest index acknowledged by a majority of `voters` (match indexes by id). */
export function committedIndex(voters: readonly NodeId[], match: (id: NodeId) => number): number {
  if (voters.length === 0) return Number.MAX_SAFE_INTEGER;
  if (voters.length === 1) return match(voters[0]!);
  if (voters.length === 3) {
    // The common cluster size: the median of three without allocating.
    const a = match(voters[0]!);
    const b = match(voters[1]!);
    const c = match(voters[2]!);
    return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
  }
  const indexes = voters.map(match).sort((x, y) => y - x);
  return indexes[Math.floor(voters.length / 2)]!;
}

export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return "won";
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const quorum = Math.floor(voters.length / 2) + 1;
  if (granted >= quorum) return "won";
  if (voters.length - rejected < quorum) return "lost";
  return "pending";
}

export function hasQuorum(voters: readonly NodeId[], acked: (id: NodeId) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (acked(id)) n++;
  return n >= Math.floor(voters.length / 2) + 1;
}
