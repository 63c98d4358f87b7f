/** What a log driver (single node or Raft) reports as it works; metrics implement it. */
export interface DriverObserver {
  /** One raft.db transaction (append + hard state + fsync) took `seconds` for `entries`. */
  persisted(seconds: number, entries: number): void;
  /** One state.db transaction applied `entries` committed entries. */
  applied(seconds: number, entries: number): void;
  snapshot(event: "created" | "compacted" | "sent" | "installed" | "failed", bytes?: number): void;
}

export const noObserver: DriverObserver = { persisted() {}, applied() {}, snapshot() {} };
