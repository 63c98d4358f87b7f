/**
 * Single-server membership changes as pure functions over a ConfState: whether a change makes
 * sense against the current configuration, and the configuration it leads to. The Raft state
 * machine decides when (one at a time, after an entry of the leader's term has committed); this
 * file decides what.
 */
import type { ConfChange, ConfState } from "./types.js";

/** Why `cc` cannot apply to `cs`, or null when it can. */
export function confChangeProblem(cs: ConfState, cc: ConfChange): string | null {
  const voter = cs.voters.includes(cc.nodeId);
  const learner = cs.learners.includes(cc.nodeId);
  switch (cc.type) {
    case "add-learner":
      return voter || learner ? `${cc.nodeId} is already a member` : null;
    case "add-voter":
      return voter ? `${cc.nodeId} is already a voter` : null;
    case "remove-node":
      if (!voter && !learner) return `${cc.nodeId} is not a member`;
      // With no voter left nobody could ever commit again, not even a change adding one back.
      return voter && cs.voters.length === 1 ? `${cc.nodeId} is the last voter` : null;
  }
}

/** The configuration after `cc`; adding a voter that is a learner promotes it. */
export function applyToConfState(cs: ConfState, cc: ConfChange): ConfState {
  const voters = cs.voters.filter((id) => id !== cc.nodeId);
  const learners = cs.learners.filter((id) => id !== cc.nodeId);
  switch (cc.type) {
    case "add-learner":
      if (cs.voters.includes(cc.nodeId)) voters.push(cc.nodeId);
      else learners.push(cc.nodeId);
      break;
    case "add-voter":
      voters.push(cc.nodeId);
      break;
    case "remove-node":
      break;
  }
  return { voters: voters.sort(), learners: learners.sort() };
}

/** The ConfChange a conf-change entry carries (its data is JSON.stringify(cc)). */
export function decodeConfChange(data: string): ConfChange {
  const cc = JSON.parse(data) as ConfChange;
  if (
    (cc.type !== "add-learner" && cc.type !== "add-voter" && cc.type !== "remove-node") ||
    typeof cc.nodeId !== "string"
  ) {
    throw new Error(`not a configuration change: ${data.slice(0, 80)}`);
  }
  return cc;
}
