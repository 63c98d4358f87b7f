/**
 * The Raft state machine (Ongaro & Ousterhout, with PreVote, CheckQuorum, ReadIndex, leadership
 * transfer, learners and single-server membership changes). Pure: input arrives as ticks and
 * messages, output is queued in `msgs`, `readStates` and the log's unstable part; RawNode turns
 * them into Ready batches. The one deliberately big file, like etcd's raft.go.
 */
import { applyToConfState } from "./confchange.js";
import { ProposalDroppedError } from "./errors.js";
import { RaftLog } from "./log.js";
import { committedIndex, hasQuorum, voteResult } from "./quorum/majority.js";
import { ReadOnly } from "./read-only.js";
import { Progress } from "./tracker/progress.js";
import type {
  BugSwitches,
  ConfChange,
  ConfState,
  Entry,
  Message,
  MessageType,
  NodeId,
  RaftConfig,
  ReadState,
  Role,
  Snapshot,
} from "./types.js";

const TRANSFER = "transfer";

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId | null = null;
  lead: NodeId | null = null;
  role: Role = "follower";
  readonly log: RaftLog;
  voters = new Set<NodeId>();
  private voterArray: NodeId[] | null = null;
  learners = new Set<NodeId>();
  prs = new Map<NodeId, Progress>();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  leadTransferee: NodeId | null = null;
  /** Proposals or a commit advance wait for flushAppends. */
  appendsWanted = false;
  /** Index of the last conf change proposed; a new one waits until it is applied. */
  pendingConfIndex = 0;
  private votes = new Map<NodeId, boolean>();
  private readonly readOnly = new ReadOnly();
  /** Reads that arrived before this leader committed an entry of its term. */
  private deferredReads: { requestId: string; from: NodeId }[] = [];
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private uncommittedSize = 0;
  readonly electionTimeout: number;
  private readonly heartbeatTimeout: number;
  private readonly random: () => number;
  private readonly checkQuorum: boolean;
  private readonly preVote: boolean;
  private readonly maxSizePerMsg: number;
  private readonly maxInflight: number;
  private readonly maxUncommittedSize: number;
  readonly bugs: BugSwitches;

  constructor(config: RaftConfig) {
    if (config.electionTick <= config.heartbeatTick)
      throw new Error("electionTick must be greater than heartbeatTick");
    this.id = config.id;
    this.electionTimeout = config.electionTick;
    this.heartbeatTimeout = config.heartbeatTick;
    this.random = config.random;
    this.checkQuorum = config.checkQuorum ?? true;
    this.preVote = config.preVote ?? true;
    this.maxSizePerMsg = config.maxSizePerMsg ?? 1024 * 1024;
    this.maxInflight = config.maxInflightMsgs ?? 256;
    this.maxUncommittedSize = config.maxUncommittedEntriesSize ?? 0;
    this.bugs = config.bugs ?? {};
    this.log = new RaftLog(config.storage);
    const { hardState, confState } = config.storage.initialState();
    this.applyConfState(confState);
    if (hardState.term > 0 || hardState.commit > 0) {
      this.log.commitTo(Math.max(hardState.commit, this.log.committed));
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    if (config.applied !== undefined && config.applied > this.log.applied) {
      // Whatever the driver applied was committed, even if a crash beat the commit index to disk.
      this.log.commitTo(Math.min(config.applied, this.log.lastIndex()));
      this.log.appliedTo(config.applied);
    }
    this.becomeFollower(this.term, null);
  }

  // ---- configuration -------------------------------------------------------------------------

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  private applyConfState(cs: ConfState): void {
    this.voters = new Set(cs.voters);
    this.voterArray = null;
    this.learners = new Set(cs.learners);
    const next = this.log.lastIndex() + 1;
    const prs = new Map<NodeId, Progress>();
    for (const id of [...this.voters, ...this.learners]) {
      prs.set(id, this.prs.get(id) ?? new Progress(next, this.maxInflight, this.learners.has(id)));
      prs.get(id)!.isLearner = this.learners.has(id);
    }
    this.prs = prs;
  }

  /** The voters as an array, rebuilt only when the configuration changes (read on every ack). */
  private voterList(): NodeId[] {
    if (this.voterArray === null) this.voterArray = [...this.voters];
    return this.voterArray;
  }

  /** Whether this node may campaign: a voter of the current configuration. */
  promotable(): boolean {
    return this.voters.has(this.id);
  }

  // ---- role changes --------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout);
    this.leadTransferee = null;
    this.votes = new Map();
    this.readOnly.reset();
    this.deferredReads = [];
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    const last = this.log.lastIndex();
    for (const id of this.prs.keys()) {
      const fresh = new Progress(last + 1, this.maxInflight, this.learners.has(id));
      if (id === this.id) fresh.match = last;
      this.prs.set(id, fresh);
    }
  }

  becomeFollower(term: number, lead: NodeId | null): void {
    this.reset(term);
    this.lead = lead;
    this.role = "follower";
  }

  private becomePreCandidate(): void {
    // The term does not change: a pre-vote that fails leaves no trace on the cluster.
    this.votes = new Map();
    this.lead = null;
    this.role = "pre-candidate";
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = "candidate";
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = "leader";
    this.prs.get(this.id)!.becomeReplicate();
    // Conf changes wait for everything before this no-op (and the no-op itself) to be applied.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op commits this term's first entry, which commits everything before it.
    this.appendEntries([{ index: 0, term: 0, type: "normal", data: "" }]);
  }

  // ---- ticks ---------------------------------------------------------------------------------

  tick(): void {
    if (this.role === "leader") this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.preVote ? "prevote" : "vote", false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    for (const [id, pr] of this.prs) {
      if (id !== this.id && pr.state === "snapshot" && ++pr.snapshotTicks > 2 * this.electionTimeout) {
        // The snapshot was lost or refused and nobody reported it: probe again.
        pr.becomeProbe();
      }
    }
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        const active = hasQuorum(
          this.voterList(),
          (id) => id === this.id || this.prs.get(id)?.recentActive === true,
        );
        for (const [id, pr] of this.prs) pr.recentActive = id === this.id;
        if (!active) {
          this.becomeFollower(this.term, null);
          return;
        }
      }
      if (this.leadTransferee !== null) this.leadTransferee = null;
    }
    if (this.role !== "leader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat(this.readOnly.lastKey());
    }
  }

  // ---- campaigning ---------------------------------------------------------------------------

  campaign(kind: "prevote" | "vote", transfer: boolean): void {
    if (!this.promotable()) return;
    let msgTerm: number;
    if (kind === "prevote") {
      this.becomePreCandidate();
      msgTerm = this.term + 1;
    } else {
      this.becomeCandidate();
      msgTerm = this.term;
    }
    if (this.poll(this.id, true) === "won") {
      if (kind === "prevote") this.campaign("vote", transfer);
      else this.becomeLeader();
      return;
    }
    for (const id of this.voters) {
      if (id === this.id) continue;
      this.send({
        type: kind,
        to: id,
        term: msgTerm,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        ...(transfer ? { context: TRANSFER } : {}),
      });
    }
  }

  private poll(id: NodeId, granted: boolean) {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return voteResult(this.voterList(), this.votes);
  }

  // ---- sending -------------------------------------------------------------------------------

  private send(m: Omit<Message, "from"> & { from?: NodeId }): void {
    this.msgs.push({ ...m, from: this.id } as Message);
  }

  /** Send an append (or a snapshot when the entries are compacted) to `to`, unless paused. */
  sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const pr = this.prs.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    let prevTerm: number;
    let entries: Entry[];
    try {
      prevTerm = this.log.term(prevIndex);
      entries = this.log.entriesFrom(pr.next, this.maxSizePerMsg);
    } catch {
      return this.sendSnapshot(to, pr);
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: "append",
      to,
      term: this.term,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit: this.log.committed,
    });
    pr.sentCommit = this.log.committed;
    if (entries.length > 0) {
      const last = entries[entries.length - 1]!.index;
      if (pr.state === "replicate") {
        pr.next = last + 1;
        pr.inflights.add(last);
      } else pr.probeSent = true;
    } else if (pr.state === "probe") pr.probeSent = true;
    return true;
  }

  private sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    if (snapshot.meta.index === 0) return false;
    pr.becomeSnapshot(snapshot.meta.index);
    this.send({ type: "snapshot", to, term: this.term, snapshot });
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
  }

  /**
   * Send the appends that proposals and commit advances asked for. RawNode calls it once per
   * Ready, so a burst of proposals (or of acknowledgements) between two Readies costs one append
   * per follower instead of one each.
   */
  flushAppends(): void {
    if (!this.appendsWanted) return;
    this.appendsWanted = false;
    if (this.role !== "leader") return;
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      while (this.sendAppend(id, false)) {}
      // Nothing new to send, but the follower must still learn the commit index.
      if (pr.sentCommit < this.log.committed) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(context?: string): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      this.send({
        type: "heartbeat",
        to: id,
        term: this.term,
        commit: Math.min(pr.match, this.log.committed),
        ...(context ? { context } : {}),
      });
    }
  }

  // ---- proposing -----------------------------------------------------------------------------

  private appendEntries(entries: Entry[]): void {
    let index = this.log.lastIndex();
    for (const entry of entries) {
      entry.index = ++index;
      entry.term = this.term;
    }
    this.log.append(entries);
    this.prs.get(this.id)?.maybeUpdate(this.log.lastIndex());
    this.maybeCommit();
  }

  /**
   * Append entries as the leader. With `forward`, a follower that knows the leader sends normal
   * entries to it in a "propose" message instead (etcd's MsgProp): the leader appends them as its
   * own, or drops them, silently, when it no longer leads. The proposer learns the outcome only by
   * seeing the entry applied, so a forwarded proposal that is lost must be given up on by timeout.
   */
  propose(entries: Entry[], forward = false): void {
    if (this.role !== "leader") {
      if (
        forward &&
        this.role === "follower" &&
        this.lead !== null &&
        this.prs.has(this.id) &&
        entries.every((e) => e.type === "normal")
      ) {
        this.send({ type: "propose", to: this.lead, term: this.term, entries });
        return;
      }
      throw new ProposalDroppedError(`${this.id} is not the leader (leader: ${this.lead ?? "unknown"})`);
    }
    if (!this.prs.has(this.id)) throw new ProposalDroppedError(`${this.id} was removed from the cluster`);
    if (this.leadTransferee !== null)
      throw new ProposalDroppedError(`leadership is moving to ${this.leadTransferee}`);
    const size = entries.reduce((sum, e) => sum + e.data.length, 0);
    if (
      this.maxUncommittedSize > 0 &&
      this.uncommittedSize > 0 &&
      this.uncommittedSize + size > this.maxUncommittedSize
    ) {
      throw new ProposalDroppedError("too many uncommitted entries; retry later");
    }
    for (const entry of entries) {
      if (entry.type !== "conf-change") continue;
      if (this.log.termOrZero(this.log.committed) !== this.term) {
        throw new ProposalDroppedError("the leader has not committed an entry of its term yet");
      }
      if (this.pendingConfIndex > this.log.applied) {
        throw new ProposalDroppedError("a configuration change is already in progress");
      }
      this.pendingConfIndex = this.log.lastIndex() + entries.indexOf(entry) + 1;
    }
    this.uncommittedSize += size;
    this.appendEntries(entries);
    this.appendsWanted = true;
  }

  /** Reduce the uncommitted size by entries that were committed (called when they are handed out). */
  reduceUncommittedSize(entries: readonly Entry[]): void {
    if (this.maxUncommittedSize === 0) return;
    const size = entries.reduce((sum, e) => sum + e.data.length, 0);
    this.uncommittedSize = Math.max(0, this.uncommittedSize - size);
  }

  private maybeCommit(): boolean {
    const voters = this.voterList();
    const index = committedIndex(voters, (id) => this.prs.get(id)?.match ?? 0);
    if (index === Number.MAX_SAFE_INTEGER) return false;
    let committed: boolean;
    if (this.bugs.commitPrevTermByCounting) {
      committed = index > this.log.committed && index <= this.log.lastIndex();
      if (committed) this.log.commitTo(index);
    } else committed = this.log.maybeCommit(index, this.term);
    if (committed) this.releaseDeferredReads();
    return committed;
  }

  // ---- reads ---------------------------------------------------------------------------------

  readIndex(requestId: string, from: NodeId = this.id): void {
    if (this.role !== "leader") {
      if (this.lead === null)
        throw new ProposalDroppedError(`${this.id} knows no leader to confirm the read`);
      this.send({ type: "read-index", to: this.lead, term: this.term, context: requestId });
      return;
    }
    if (this.bugs.staleLeaderReads) {
      this.answerRead(requestId, from, this.log.committed);
      return;
    }
    if (this.log.termOrZero(this.log.committed) !== this.term) {
      // Our commit index may be behind what an earlier leader committed: wait for the no-op.
      this.deferredReads.push({ requestId, from });
      return;
    }
    if (this.voters.size === 1 && this.voters.has(this.id)) {
      this.answerRead(requestId, from, this.log.committed);
      return;
    }
    const key = this.readOnly.add({ requestId, index: this.log.committed, from, acks: new Set([this.id]) });
    if (key !== undefined) this.bcastHeartbeat(key);
  }

  private releaseDeferredReads(): void {
    if (this.role !== "leader" || this.deferredReads.length === 0) return;
    if (this.log.termOrZero(this.log.committed) !== this.term) return;
    const reads = this.deferredReads;
    this.deferredReads = [];
    for (const read of reads) this.readIndex(read.requestId, read.from);
  }

  private answerRead(requestId: string, from: NodeId, index: number): void {
    if (from === this.id) this.readStates.push({ index, requestId });
    else this.send({ type: "read-index-resp", to: from, term: this.term, index, context: requestId });
  }

  // ---- leadership transfer -------------------------------------------------------------------

  transferLeadership(to: NodeId): void {
    if (this.role !== "leader") {
      if (this.lead !== null)
        this.send({ type: "transfer-leader", to: this.lead, term: this.term, context: to });
      return;
    }
    if (to === this.id || !this.voters.has(to)) return;
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.prs.get(to)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: "timeout-now", to, term: this.term });
    else this.sendAppend(to);
  }

  // ---- membership ----------------------------------------------------------------------------

  applyConfChange(cc: ConfChange): ConfState {
    this.applyConfState(applyToConfState(this.confState(), cc));
    if (this.role === "leader") {
      if (!this.voters.has(this.id)) {
        // A removed leader steps down; the remaining voters elect a new one.
        this.becomeFollower(this.term, null);
      } else {
        if (this.leadTransferee !== null && !this.voters.has(this.leadTransferee)) this.leadTransferee = null;
        if (this.maybeCommit()) this.bcastAppend();
        else for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
      }
    }
    return this.confState();
  }

  // ---- snapshots -----------------------------------------------------------------------------

  /** Install a snapshot: from the leader (handleSnapshot) or the driver (restore). */
  restore(snapshot: Snapshot): boolean {
    if (snapshot.meta.index <= this.log.committed) return false;
    if (this.log.matchTerm(snapshot.meta.index, snapshot.meta.term)) {
      // We already have the entries: just move the commit index.
      this.log.commitTo(snapshot.meta.index);
      return false;
    }
    this.log.restore(snapshot);
    this.prs = new Map();
    this.applyConfState(snapshot.meta.confState);
    const self = this.prs.get(this.id);
    if (self) self.match = snapshot.meta.index;
    return true;
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.prs.get(id);
    if (this.role !== "leader" || !pr || pr.state !== "snapshot") return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true;
  }

  reportUnreachable(id: NodeId): void {
    const pr = this.prs.get(id);
    if (this.role === "leader" && pr?.state === "replicate") pr.becomeProbe();
  }

  // ---- stepping ------------------------------------------------------------------------------

  step(m: Message): void {
    if (m.type === "propose") {
      // A follower's forwarded proposal: no term of its own to act on, never a reason to step down.
      if (m.term !== this.term || this.role !== "leader" || !this.prs.has(m.from)) return;
      const entries = (m.entries ?? []).filter((e) => e.type === "normal");
      if (entries.length === 0) return;
      try {
        this.propose(entries.map((e) => ({ index: 0, term: 0, type: "normal", data: e.data })));
      } catch (error) {
        if (!(error instanceof ProposalDroppedError)) throw error;
      }
      return;
    }
    if (m.term > this.term) {
      if (m.type === "vote" || m.type === "prevote") {
        const force = m.context === TRANSFER;
        const inLease = this.checkQuorum && this.lead !== null && this.electionElapsed < this.electionTimeout;
        // A node that heard from a live leader recently ignores a disruptive campaign.
        if (!force && inLease) return;
      }
      if (m.type === "prevote" || (m.type === "prevote-resp" && !m.reject)) {
        // A pre-vote does not change anyone's term.
      } else if (m.type === "append" || m.type === "heartbeat" || m.type === "snapshot") {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === "append" || m.type === "heartbeat")) {
        // A stale leader learns our term and steps down (no vote needed to unstick it).
        this.send({ type: "append-resp", to: m.from, term: this.term });
      } else if (m.type === "prevote") {
        this.send({ type: "prevote-resp", to: m.from, term: this.term, reject: true });
      }
      return;
    }

    if (m.type === "vote" || m.type === "prevote") {
      const canVote =
        this.vote === m.from ||
        (this.vote === null && this.lead === null) ||
        (m.type === "prevote" && m.term > this.term);
      if (canVote && this.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
        this.send({ type: m.type === "vote" ? "vote-resp" : "prevote-resp", to: m.from, term: m.term });
        if (m.type === "vote") {
          this.electionElapsed = 0;
          this.vote = m.from;
        }
      } else {
        this.send({
          type: m.type === "vote" ? "vote-resp" : "prevote-resp",
          to: m.from,
          term: this.term,
          reject: true,
        });
      }
      return;
    }

    switch (this.role) {
      case "leader":
        this.stepLeader(m);
        break;
      case "candidate":
      case "pre-candidate":
        this.stepCandidate(m);
        break;
      default:
        this.stepFollower(m);
    }
  }

  private stepLeader(m: Message): void {
    if (m.type === "read-index") {
      this.readIndex(m.context ?? "", m.from);
      return;
    }
    if (m.type === "transfer-leader") {
      this.transferLeadership(m.context ?? m.from);
      return;
    }
    const pr = this.prs.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case "append-resp": {
        pr.recentActive = true;
        if (m.index === undefined) return; // a term notice from a node that rejected a stale leader
        if (m.reject) {
          let hint = m.rejectHint ?? 0;
          if ((m.logTerm ?? 0) > 0) hint = this.log.findConflictByTerm(hint, m.logTerm!);
          if (pr.maybeDecrTo(m.index, hint)) {
            if (pr.state === "replicate") pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        const oldPaused = pr.isPaused();
        if (pr.maybeUpdate(m.index)) {
          if (pr.state === "probe") pr.becomeReplicate();
          else if (pr.state === "snapshot" && pr.match >= pr.pendingSnapshot) {
            pr.becomeProbe();
            pr.becomeReplicate();
          } else if (pr.state === "replicate") pr.inflights.freeLE(m.index);
          if (this.maybeCommit()) this.appendsWanted = true;
          if (oldPaused) this.sendAppend(m.from);
          // Pipelining: keep the window full.
          while (this.sendAppend(m.from, false)) {}
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
            this.send({ type: "timeout-now", to: m.from, term: this.term });
          }
        }
        return;
      }
      case "heartbeat-resp": {
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.state === "replicate" && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (!m.context) return;
        const acks = this.readOnly.recvAck(m.from, m.context);
        if (!acks || !hasQuorum(this.voterList(), (id) => acks.has(id))) return;
        for (const read of this.readOnly.advance(m.context))
          this.answerRead(read.requestId, read.from, read.index);
        return;
      }
      default:
        return;
    }
  }

  private stepCandidate(m: Message): void {
    const ours: MessageType = this.role === "pre-candidate" ? "prevote-resp" : "vote-resp";
    if (m.type === "append" || m.type === "heartbeat" || m.type === "snapshot") {
      this.becomeFollower(m.term, m.from);
      this.stepFollower(m);
      return;
    }
    if (m.type !== ours) return;
    const result = this.poll(m.from, !m.reject);
    if (result === "won") {
      if (this.role === "pre-candidate") this.campaign("vote", false);
      else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === "lost") this.becomeFollower(this.term, null);
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case "append":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case "heartbeat":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.log.commitTo(Math.min(m.commit ?? 0, this.log.lastIndex()));
        this.send({
          type: "heartbeat-resp",
          to: m.from,
          term: this.term,
          ...(m.context ? { context: m.context } : {}),
        });
        return;
      case "snapshot":
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case "timeout-now":
        // Leadership transfer: campaign at once, skipping the pre-vote and the leader's lease.
        this.campaign("vote", true);
        return;
      case "read-index-resp":
        this.readStates.push({ index: m.index ?? 0, requestId: m.context ?? "" });
        return;
      case "transfer-leader":
        if (this.lead !== null)
          this.send({
            type: "transfer-leader",
            to: this.lead,
            term: this.term,
            context: m.context ?? m.from,
          });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    const prevIndex = m.index ?? 0;
    if (prevIndex < this.log.committed) {
      this.send({ type: "append-resp", to: m.from, term: this.term, index: this.log.committed });
      return;
    }
    const entries = m.entries ?? [];
    let lastNew: number;
    if (this.bugs.skipPrevLogCheck) {
      lastNew =
        prevIndex <= this.log.lastIndex() ? this.log.appendAfterMatch(prevIndex, m.commit ?? 0, entries) : -1;
    } else lastNew = this.log.maybeAppend(prevIndex, m.logTerm ?? 0, m.commit ?? 0, entries);
    if (lastNew >= 0) {
      this.send({ type: "append-resp", to: m.from, term: this.term, index: lastNew });
      return;
    }
    const hintIndex = this.log.findConflictByTerm(Math.min(prevIndex, this.log.lastIndex()), m.logTerm ?? 0);
    this.send({
      type: "append-resp",
      to: m.from,
      term: this.term,
      index: prevIndex,
      reject: true,
      rejectHint: hintIndex,
      logTerm: this.log.termOrZero(hintIndex),
    });
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot!;
    if (this.restore(snapshot)) {
      this.send({ type: "append-resp", to: m.from, term: this.term, index: this.log.lastIndex() });
    } else {
      this.send({ type: "append-resp", to: m.from, term: this.term, index: this.log.committed });
    }
  }
}
