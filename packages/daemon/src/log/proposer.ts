import type { ApplyOutcome, Command } from "../state/commands.js";

/**
 * The port every write goes through: the HTTP layer builds a command and waits for the outcome of
 * applying it. One node implements it with its own log (SingleNodeLog); a cluster with Raft.
 */
export interface Proposer {
  /** Append `command` to the replicated log, wait until it is committed and applied, and return the outcome. */
  propose(command: Command): Promise<ApplyOutcome>;
  /** Resolve once this node's state includes every write committed before the call (linearizable reads). */
  readBarrier(): Promise<number>;
  /** Applied index of this node's state machine. */
  appliedIndex(): number;
  close(): Promise<void>;
}
