import type { Message } from "../raft/types.js";

/** How a node's messages reach its peers. The HTTP transport implements it for a real cluster. */
export interface Transport {
  /** Hand messages to the network; delivery is best effort (Raft retries). */
  send(messages: readonly Message[]): void;
}
