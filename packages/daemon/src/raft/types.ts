/** Types of the pure Raft core. Everything here is plain data: the driver persists and sends it. */
import type { Storage } from "./storage.js";

export type NodeId = string;
export type EntryType = "normal" | "conf-change";

/** A log entry. `data` is opaque to the core; "" is a leader's no-op. */
export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  data: string;
}

export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  confState: ConfState;
}

/** `data` is the state machine's image, opaque to the core. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: string;
}

/**
 * Single-server membership changes. `add-voter` of a learner promotes it. One change may be in
 * flight at a time, and a leader proposes one only after committing an entry of its own term.
 */
export type ConfChangeType = "add-learner" | "add-voter" | "remove-node";
export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context?: string;
}

export type MessageType =
  | "append"
  | "append-resp"
  | "heartbeat"
  | "heartbeat-resp"
  | "vote"
  | "vote-resp"
  | "prevote"
  | "prevote-resp"
  | "snapshot"
  | "timeout-now"
  | "transfer-leader"
  | "read-index"
  | "read-index-resp"
  | "propose";

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm?: number;
  index?: number;
  entries?: Entry[];
  commit?: number;
  reject?: boolean;
  /** With a rejected append: the follower's guess of the last index that may match. */
  rejectHint?: number;
  snapshot?: Snapshot;
  /** Read request id on read-index / heartbeat; "transfer" on a vote forced by a leadership transfer. */
  context?: string;
}

export interface ReadState {
  index: number;
  requestId: string;
}

export type Role = "follower" | "pre-candidate" | "candidate" | "leader";

export interface SoftState {
  leader: NodeId | null;
  role: Role;
}

/** What the driver must do next, in order: persist, send, apply; then call advance(). */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
  /**
   * The node leads and this Ready changes neither its term nor its vote: its appends that carry
   * entries (RawNode.sentFirst) may be sent before the Ready is persisted, so that followers write
   * to their disks while the leader writes to its own (Raft thesis 10.2.1). The leader counts its
   * own copy at append time, but an entry commits only with a follower's answer, and the driver
   * steps no answer before it has persisted this Ready. A leader that crashes first has only sent
   * entries that nobody was told are committed. Never when the term or vote is new: a vote lost
   * in a crash could be given again in the same term, and two leaders of one term would follow.
   */
  leaderMaySendFirst: boolean;
}

/** Test-only switches that make the core unsafe on purpose, so tests can show the checks bite. */
export interface BugSwitches {
  /** The leader commits earlier-term entries by counting replicas (the paper's Figure 8). */
  commitPrevTermByCounting?: boolean;
  /** Ready.hardState carries vote: null, so the vote is never persisted. */
  forgetVote?: boolean;
  /** A follower accepts an append without checking the previous index and term. */
  skipPrevLogCheck?: boolean;
  /** The leader answers readIndex at once with its commit index, without a quorum round. */
  staleLeaderReads?: boolean;
}

export interface RaftConfig {
  id: NodeId;
  storage: Storage;
  /** Ticks without a leader before campaigning; the timeout is randomized in [e, 2e). */
  electionTick: number;
  heartbeatTick: number;
  /** Seeded PRNG in [0, 1). */
  random: () => number;
  /** Last applied index when restarting. */
  applied?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  maxUncommittedEntriesSize?: number;
  checkQuorum?: boolean;
  preVote?: boolean;
  bugs?: BugSwitches;
}

export type ProgressState = "probe" | "replicate" | "snapshot";

export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId | null;
  commit: number;
  applied: number;
  lead: NodeId | null;
  role: Role;
  confState: ConfState;
  progress?: Record<NodeId, { match: number; next: number; state: ProgressState; recentActive: boolean }>;
}
