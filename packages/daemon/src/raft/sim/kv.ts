/** The simulated state machine: a map of string registers with put, get and compare-and-set. */
export type KvCommand =
  | { op: "put"; key: string; value: string; client: string; req: number }
  | { op: "cas"; key: string; expected: string | null; value: string; client: string; req: number };

export interface KvState {
  data: Record<string, string>;
  applied: number;
}

export function applyKv(state: KvState, command: KvCommand): boolean {
  if (command.op === "put") {
    state.data[command.key] = command.value;
    return true;
  }
  const current = state.data[command.key] ?? null;
  if (current !== command.expected) return false;
  state.data[command.key] = command.value;
  return true;
}
