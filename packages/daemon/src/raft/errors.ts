/** A proposal or request the core refused: not the leader, a transfer in progress, a change pending. */
export class ProposalDroppedError extends Error {
  constructor(reason: string) {
    super(`proposal dropped: ${reason}`);
    this.name = "ProposalDroppedError";
  }
}

/** The requested index is behind the snapshot: the log was compacted. */
export class CompactedError extends Error {
  constructor(index: number, first: number) {
    super(`index ${index} is compacted (first index is ${first})`);
    this.name = "CompactedError";
  }
}

/** The requested index is beyond the last entry. */
export class UnavailableError extends Error {
  constructor(index: number, last: number) {
    super(`index ${index} is unavailable (last index is ${last})`);
    this.name = "UnavailableError";
  }
}
