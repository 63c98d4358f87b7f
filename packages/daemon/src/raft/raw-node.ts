/**
 * RawNode: the synchronous API of the Raft core (etcd's rawnode.go).
 *
 * The driver's persistence contract, for every Ready it takes:
 *   1. Durably persist `hardState`, `entries` (replacing any stored suffix from the first new
 *      index) and `snapshot`, in that order or atomically. A vote or an entry must be on disk
 *      before any message that depends on it leaves the node. A hardState that moves only the
 *      commit index need not be written: on restart the applied index counts as committed.
 *   2. Send `messages`. A leader may send RawNode.sentFirst(ready) before step 1 (see
 *      Ready.leaderMaySendFirst), provided it steps no message until step 1 is done. Requests to
 *      the leader (takeRequests) may be taken and sent at any time, a Ready being written or not.
 *   3. Apply `snapshot` (if any) to the state machine, then `committedEntries` in order, storing the
 *      applied index atomically with each state change; call applyConfChange for conf-change
 *      entries; serve each ReadState once the applied index reaches its index.
 *   4. Call advance().
 * A crash loses only what was not persisted; on restart, build a RawNode over the same Storage
 * with `applied` set to the persisted applied index, then call applyConfChange for each
 * conf-change entry in (snapshot index, applied]: the Storage's ConfState is its snapshot's.
 * Committed entries are handed out at most once; after advance() the applied index is the last
 * one handed out.
 */
import { confChangeProblem } from "./confchange.js";
import { ProposalDroppedError } from "./errors.js";
import { Raft } from "./raft.js";
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  RaftConfig,
  Ready,
  Snapshot,
  SoftState,
  Status,
} from "./types.js";

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  /** What the last Ready handed out, for advance(). */
  private pending: {
    lastEntry?: { index: number; term: number };
    snapshotIndex?: number;
    applying?: number;
  } | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = this.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** A message from a peer (a "propose" is a follower's forwarded proposal). */
  step(message: Message): void {
    if (message.to !== this.raft.id) return;
    if (!this.raft.prs.has(message.from) && message.type.endsWith("-resp") && this.raft.role === "leader") {
      // A response from a node that is no longer a member.
      return;
    }
    this.raft.step(message);
  }

  /**
   * Propose an opaque command; throws ProposalDroppedError unless this node leads, or, with
   * `forward`, unless it is a follower that knows the leader (which it then sends the entry to).
   */
  propose(data: string, forward = false): void {
    this.raft.propose([{ index: 0, term: 0, type: "normal", data }], forward);
  }

  proposeConfChange(cc: ConfChange): void {
    const problem = confChangeProblem(this.raft.confState(), cc);
    if (problem !== null) throw new ProposalDroppedError(problem);
    this.raft.propose([{ index: 0, term: 0, type: "conf-change", data: JSON.stringify(cc) }]);
  }

  /** The driver applies a committed conf-change entry; the new configuration takes effect now. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Ask for a linearizable read; a ReadState with `requestId` comes back in a later Ready. */
  readIndex(requestId: string): void {
    this.raft.readIndex(requestId);
  }

  transferLeadership(to: string): void {
    this.raft.transferLeadership(to);
  }

  /**
   * Install a snapshot the driver obtained itself (e.g. restoring a backup); it comes back in
   * Ready.snapshot. Returns false when the commit index already covers it (nothing changes).
   */
  restore(snapshot: Snapshot): boolean {
    if (snapshot.meta.index <= this.raft.log.committed) return false;
    // A leader whose log is replaced under it would replicate from a log it no longer has.
    if (this.raft.role === "leader") this.raft.becomeFollower(this.raft.term, null);
    return this.raft.restore(snapshot);
  }

  reportUnreachable(id: string): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: string, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    const r = this.raft;
    return (
      r.appendsWanted ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.unstable.entries.length > 0 ||
      r.log.unstable.snapshot !== undefined ||
      r.log.hasNextCommittedEnts() ||
      r.lead !== this.prevSoft.leader ||
      r.role !== this.prevSoft.role ||
      r.term !== this.prevHard.term ||
      r.vote !== this.prevHard.vote ||
      r.log.committed !== this.prevHard.commit
    );
  }

  ready(): Ready {
    const r = this.raft;
    r.flushAppends();
    const entries = [...r.log.unstable.entries];
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = snapshot ? [] : r.log.takeCommittedEnts();
    r.reduceUncommittedSize(committedEntries);
    const messages = r.msgs;
    r.msgs = [];
    const readStates = r.readStates;
    r.readStates = [];
    const soft = this.softState();
    const hard = this.hardState();
    const ready: Ready = {
      entries,
      committedEntries,
      messages,
      readStates,
      mustSync: false,
      leaderMaySendFirst:
        r.role === "leader" && hard.term === this.prevHard.term && hard.vote === this.prevHard.vote,
    };
    if (soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role) {
      ready.softState = soft;
      this.prevSoft = soft;
    }
    if (
      hard.term !== this.prevHard.term ||
      hard.vote !== this.prevHard.vote ||
      hard.commit !== this.prevHard.commit
    ) {
      ready.hardState = r.bugs.forgetVote ? { ...hard, vote: null } : hard;
      ready.mustSync = hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
      this.prevHard = hard;
    }
    if (entries.length > 0) ready.mustSync = true;
    if (snapshot) ready.snapshot = snapshot;
    const last = entries[entries.length - 1];
    this.pending = {
      ...(last ? { lastEntry: { index: last.index, term: last.term } } : {}),
      ...(snapshot ? { snapshotIndex: snapshot.meta.index } : {}),
      ...(committedEntries.length > 0
        ? { applying: committedEntries[committedEntries.length - 1]!.index }
        : {}),
    };
    return ready;
  }

  /** Messages of a Ready that may go before it is persisted (see Ready.leaderMaySendFirst). */
  static sentFirst(ready: Ready): Message[] {
    if (!ready.leaderMaySendFirst) return [];
    return ready.messages.filter((m) => m.type === "append" && (m.entries?.length ?? 0) > 0);
  }

  /**
   * Take the requests this node has for its leader, a forwarded proposal ("propose", etcd's
   * MsgProp) and a ReadIndex ("read-index"), out of the messages of the next Ready: the driver may
   * send them while the Ready before is still being written. Neither answers anything or tells of
   * this node's log, term or vote: a request sent with a term not yet on disk reveals nothing a
   * crash could take back (the leader only appends the entries as its own, or confirms a read
   * index), and either is lost without harm (the proposer times out, a read round is asked again).
   */
  takeRequests(): Message[] {
    const r = this.raft;
    if (r.msgs.length === 0) return [];
    const requests: Message[] = [];
    const rest: Message[] = [];
    for (const m of r.msgs) (m.type === "propose" || m.type === "read-index" ? requests : rest).push(m);
    if (requests.length > 0) r.msgs = rest;
    return requests;
  }

  /** The driver handled the last Ready: its entries are stable and its committed entries applied. */
  advance(): void {
    const done = this.pending;
    this.pending = null;
    if (!done) return;
    const log = this.raft.log;
    if (done.snapshotIndex !== undefined) {
      log.unstable.stableSnapTo(done.snapshotIndex);
      log.appliedTo(done.snapshotIndex);
    }
    if (done.lastEntry) log.unstable.stableTo(done.lastEntry.index, done.lastEntry.term);
    if (done.applying !== undefined) log.appliedTo(done.applying);
  }

  status(): Status {
    const r = this.raft;
    const status: Status = {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lead: r.lead,
      role: r.role,
      confState: r.confState(),
    };
    if (r.role === "leader") {
      status.progress = {};
      for (const [id, pr] of r.prs) {
        status.progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
        };
      }
    }
    return status;
  }

  inspect() {
    const r = this.raft;
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      role: r.role,
      lead: r.lead,
      commit: r.log.committed,
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
    };
  }

  entryAt(index: number): Entry | undefined {
    return this.raft.log.entryAt(index);
  }
}
