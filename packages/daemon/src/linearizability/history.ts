/**
 * The history format the checker reads: operations on a key-value store of registers, each with
 * the time it was invoked and the time its answer came back. An operation whose outcome is
 * unknown (timed out, node crashed) has `complete: Infinity` and no known result: it may have
 * taken effect at any time after its invocation, or never.
 */
export type Operation =
  | { kind: "put"; key: string; value: string }
  | { kind: "get"; key: string }
  | { kind: "cas"; key: string; expected: string | null; value: string };

export interface HistoryEntry {
  id: number;
  client: string;
  op: Operation;
  invoke: number;
  /** Time of the answer; Infinity when the outcome is unknown. */
  complete: number;
  /** get: the value read (null: absent); cas: whether it swapped; put: true. Absent when unknown. */
  result?: string | null | boolean;
}

/** Apply an operation to a register; returns the new value and the result it produces. */
export function step(
  state: string | null,
  op: Operation,
): { state: string | null; result: string | null | boolean } {
  switch (op.kind) {
    case "put":
      return { state: op.value, result: true };
    case "get":
      return { state, result: state };
    case "cas":
      return state === op.expected ? { state: op.value, result: true } : { state, result: false };
  }
}
