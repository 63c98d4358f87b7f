/**
 * A simulated cluster: RawNodes with in-memory "disks", a seeded network that can drop, delay,
 * reorder, duplicate and partition messages, and a driver per node that keeps the persistence
 * contract exactly (persist, send, apply, advance; a leader's new entries may be sent before
 * they are persisted). Crashing a node throws away everything that
 * was not persisted. Used by the simulator and by the core's scenario tests.
 */
import { ProposalDroppedError } from "../errors.js";
import { RawNode } from "../raw-node.js";
import { MemoryStorage } from "../storage.js";
import type { BugSwitches, ConfChange, ConfState, Entry, Message, NodeId, Ready } from "../types.js";
import { applyKv, type KvCommand, type KvState } from "./kv.js";
import type { Prng } from "./prng.js";

/** What survives a crash: the log storage, the applied state machine and its configuration. */
export interface Disk {
  storage: MemoryStorage;
  kv: KvState;
  confState: ConfState;
}

export interface SimNode {
  id: NodeId;
  disk: Disk;
  raw: RawNode | null;
  /** Ticks less often and handles messages late. */
  slow: boolean;
  /** ReadStates waiting for the applied index to reach them. */
  pendingReads: { requestId: string; index: number }[];
}

export interface NetworkOptions {
  drop: number;
  duplicate: number;
  maxDelay: number;
}

interface InFlight {
  at: number;
  seq: number;
  message: Message;
}

export interface ClusterHooks {
  /** An entry was applied on a node (after the state machine changed). */
  onApply?(node: SimNode, entry: Entry, result: boolean | null): void;
  /** A linearizable read is answered on a node. */
  onRead?(node: SimNode, requestId: string): void;
  /**
   * A leader sent the messages it may send before persisting (RawNode.sentFirst) and is about to
   * persist the Ready; the hook may crash it here (Cluster.crash) to tear the Ready in two.
   */
  afterSendFirst?(node: SimNode, ready: Ready): void;
  /** A snapshot replaced a node's state. */
  onSnapshot?(node: SimNode, index: number): void;
  trace?(line: string): void;
}

export interface ClusterOptions {
  ids: NodeId[];
  /** Nodes outside the initial configuration that may join later. */
  spares?: NodeId[];
  rng: Prng;
  bugs?: BugSwitches;
  electionTick?: number;
  snapshotEvery?: number;
  network?: Partial<NetworkOptions>;
  hooks?: ClusterHooks;
  maxInflightMsgs?: number;
  maxSizePerMsg?: number;
}

export class Cluster {
  readonly nodes = new Map<NodeId, SimNode>();
  readonly initialVoters: NodeId[];
  now = 0;
  private seq = 0;
  private inflight: InFlight[] = [];
  /** Directed links that drop everything: "a>b". */
  blocked = new Set<string>();
  network: NetworkOptions;
  readonly rng: Prng;
  private readonly hooks: ClusterHooks;
  private readonly opts: ClusterOptions;

  constructor(options: ClusterOptions) {
    this.opts = options;
    this.rng = options.rng;
    this.hooks = options.hooks ?? {};
    this.initialVoters = [...options.ids];
    this.network = { drop: 0, duplicate: 0, maxDelay: 0, ...options.network };
    for (const id of [...options.ids, ...(options.spares ?? [])]) {
      const storage = MemoryStorage.bootstrap(this.initialVoters);
      const node: SimNode = {
        id,
        disk: {
          storage,
          kv: { data: {}, applied: 0 },
          confState: { voters: [...this.initialVoters], learners: [] },
        },
        raw: null,
        slow: false,
        pendingReads: [],
      };
      this.nodes.set(id, node);
      this.start(node);
    }
  }

  private trace(line: string): void {
    this.hooks.trace?.(`[${this.now}] ${line}`);
  }

  /** (Re)start a node from its disk, re-applying conf changes the snapshot does not cover. */
  start(node: SimNode): void {
    const { storage, kv } = node.disk;
    node.raw = new RawNode({
      id: node.id,
      storage,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: 1,
      random: () => this.rng.next(),
      applied: kv.applied,
      checkQuorum: true,
      preVote: true,
      maxInflightMsgs: this.opts.maxInflightMsgs ?? 8,
      maxSizePerMsg: this.opts.maxSizePerMsg ?? 4096,
      ...(this.opts.bugs ? { bugs: this.opts.bugs } : {}),
    });
    const from = storage.snapshot().meta.index + 1;
    for (let i = from; i <= kv.applied; i++) {
      const entry = storage.entries(i, i + 1)[0]!;
      if (entry.type === "conf-change") node.raw.applyConfChange(JSON.parse(entry.data) as ConfChange);
    }
    node.pendingReads = [];
  }

  /** Crash a node. A power loss also loses what sat in its send buffers (`loseOutbox`). */
  crash(id: NodeId, loseOutbox = false): void {
    const node = this.nodes.get(id)!;
    if (!node.raw) return;
    this.trace(`crash ${id}${loseOutbox ? " (outgoing messages lost)" : ""}`);
    if (loseOutbox) this.inflight = this.inflight.filter((item) => item.message.from !== id);
    node.raw = null;
    node.pendingReads = [];
  }

  restart(id: NodeId): void {
    const node = this.nodes.get(id)!;
    if (node.raw) return;
    this.trace(`restart ${id}`);
    this.start(node);
  }

  alive(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.raw !== null);
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const node of this.alive()) {
      const r = node.raw!.raft;
      if (r.role === "leader" && (!best || r.term > best.raw!.raft.term)) best = node;
    }
    return best;
  }

  // ---- network -------------------------------------------------------------------------------

  private enqueue(message: Message): void {
    const { drop, duplicate, maxDelay } = this.network;
    if (this.blocked.has(`${message.from}>${message.to}`)) return;
    if (drop > 0 && this.rng.chance(drop)) return;
    // A forwarded proposal delivered twice would be appended twice (as in etcd): the cluster's
    // stream transport never delivers a message twice, so the simulated network does not either.
    const copies = duplicate > 0 && this.rng.chance(duplicate) && message.type !== "propose" ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const slow = this.nodes.get(message.to)?.slow ? 3 : 0;
      const delay = maxDelay > 0 ? this.rng.int(maxDelay + 1) : 0;
      this.inflight.push({ at: this.now + delay + slow, seq: this.seq++, message });
    }
  }

  /** Deliver every message due now, in a seeded order (which reorders them). */
  deliverDue(): number {
    const due: InFlight[] = [];
    const rest: InFlight[] = [];
    for (const item of this.inflight) (item.at <= this.now ? due : rest).push(item);
    this.inflight = rest;
    if (due.length === 0) return 0;
    due.sort((a, b) => a.seq - b.seq);
    if (this.network.maxDelay > 0) {
      for (let i = due.length - 1; i > 0; i--) {
        const j = this.rng.int(i + 1);
        [due[i], due[j]] = [due[j]!, due[i]!];
      }
    }
    for (const item of due) this.deliver(item.message);
    return due.length;
  }

  deliver(message: Message): void {
    const node = this.nodes.get(message.to);
    if (!node?.raw || this.blocked.has(`${message.from}>${message.to}`)) return;
    if (this.hooks.trace) this.trace(describeMessage(message));
    node.raw.step(message);
    this.process(node);
  }

  pendingMessages(): number {
    return this.inflight.length;
  }

  clearNetwork(): void {
    this.inflight = [];
  }

  // ---- driving -------------------------------------------------------------------------------

  tick(node: SimNode): void {
    if (!node.raw) return;
    node.raw.tick();
    this.process(node);
  }

  /** The driver loop for one node: handle Ready batches until there are none. */
  process(node: SimNode): void {
    for (let guard = 0; node.raw?.hasReady() && guard < 100; guard++) {
      const ready = node.raw.ready();
      this.handleReady(node, ready);
      node.raw?.advance();
    }
  }

  private handleReady(node: SimNode, ready: Ready): void {
    const { storage } = node.disk;
    // 0. A leader's appends and heartbeats may leave before its own write (thesis 10.2.1).
    const first = new Set(RawNode.sentFirst(ready));
    for (const message of first) this.enqueue(message);
    if (first.size > 0) {
      this.hooks.afterSendFirst?.(node, ready);
      if (!node.raw) return;
    }
    // 1. Persist.
    if (ready.snapshot) {
      storage.applySnapshot(ready.snapshot);
    }
    if (ready.entries.length > 0) storage.append(ready.entries);
    if (ready.hardState) storage.setHardState(ready.hardState);
    // 2. Send.
    for (const message of ready.messages) if (!first.has(message)) this.enqueue(message);
    // 3. Apply.
    if (ready.snapshot) {
      const image = JSON.parse(ready.snapshot.data) as { kv: KvState; confState: ConfState };
      node.disk.kv = { data: { ...image.kv.data }, applied: ready.snapshot.meta.index };
      node.disk.confState = structuredClone(ready.snapshot.meta.confState);
      this.trace(`${node.id} installed snapshot at ${ready.snapshot.meta.index}`);
      this.hooks.onSnapshot?.(node, ready.snapshot.meta.index);
    }
    for (const entry of ready.committedEntries) {
      if (entry.index <= node.disk.kv.applied) continue;
      let result: boolean | null = null;
      if (entry.type === "conf-change") {
        const cc = JSON.parse(entry.data) as ConfChange;
        node.disk.confState = node.raw!.applyConfChange(cc);
        this.trace(`${node.id} applied conf change ${cc.type} ${cc.nodeId} at ${entry.index}`);
      } else if (entry.data !== "") {
        result = applyKv(node.disk.kv, JSON.parse(entry.data) as KvCommand);
      }
      node.disk.kv.applied = entry.index;
      this.hooks.onApply?.(node, entry, result);
    }
    const every = this.opts.snapshotEvery ?? 0;
    const applied = node.disk.kv.applied;
    if (every > 0 && applied - storage.snapshot().meta.index >= every && applied <= storage.lastIndex()) {
      storage.createSnapshot(
        applied,
        node.disk.confState,
        JSON.stringify({ kv: node.disk.kv, confState: node.disk.confState }),
      );
      storage.compact(Math.max(storage.firstIndex(), applied - Math.floor(every / 2)));
    }
    for (const read of ready.readStates) node.pendingReads.push(read);
    this.serveReads(node);
  }

  private serveReads(node: SimNode): void {
    if (node.pendingReads.length === 0) return;
    const ready = node.pendingReads.filter((r) => r.index <= node.disk.kv.applied);
    if (ready.length === 0) return;
    node.pendingReads = node.pendingReads.filter((r) => r.index > node.disk.kv.applied);
    for (const read of ready) this.hooks.onRead?.(node, read.requestId);
  }

  /** Run a request on a live node's core; false when the core refused it (ProposalDroppedError). */
  private attempt(id: NodeId, request: (raw: RawNode) => void): boolean {
    const node = this.nodes.get(id);
    if (!node?.raw) return false;
    try {
      request(node.raw);
    } catch (error) {
      if (error instanceof ProposalDroppedError) return false;
      throw error;
    }
    this.process(node);
    return true;
  }

  /** Propose on a node; false when it refused (not leader, transfer, pending change). */
  /** Propose on `id`; a follower that knows the leader forwards it there (see Raft.propose). */
  propose(id: NodeId, data: string): boolean {
    return this.attempt(id, (raw) => raw.propose(data, true));
  }

  readIndex(id: NodeId, requestId: string): boolean {
    return this.attempt(id, (raw) => raw.readIndex(requestId));
  }

  proposeConfChange(id: NodeId, cc: ConfChange): boolean {
    const ok = this.attempt(id, (raw) => raw.proposeConfChange(cc));
    if (ok) this.trace(`${id} proposed ${cc.type} ${cc.nodeId}`);
    return ok;
  }

  transferLeadership(id: NodeId, to: NodeId): void {
    const node = this.nodes.get(id);
    if (!node?.raw) return;
    this.trace(`${id} transfers leadership to ${to}`);
    node.raw.transferLeadership(to);
    this.process(node);
  }

  /** Deliver until the network is quiet (no faults), bounded. */
  stabilize(maxRounds = 1000): void {
    for (let i = 0; i < maxRounds && this.inflight.length > 0; i++) {
      this.now++;
      this.deliverDue();
    }
  }

  /** Advance time by one tick for every live node, then deliver what is due. */
  step(): void {
    this.now++;
    for (const node of this.nodes.values()) {
      if (!node.raw) continue;
      if (node.slow && !this.rng.chance(0.3)) continue;
      this.tick(node);
    }
    this.deliverDue();
  }
}

function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} t${m.term}`];
  if (m.index !== undefined) parts.push(`i${m.index}`);
  if (m.logTerm !== undefined) parts.push(`lt${m.logTerm}`);
  if (m.entries?.length) parts.push(`[${m.entries.map((e) => `${e.index}@${e.term}`).join(",")}]`);
  if (m.commit !== undefined) parts.push(`c${m.commit}`);
  if (m.reject) parts.push(m.rejectHint === undefined ? "reject" : `reject hint ${m.rejectHint}`);
  if (m.snapshot) parts.push(`snap ${m.snapshot.meta.index}@${m.snapshot.meta.term}`);
  if (m.context) parts.push(`ctx ${m.context}`);
  return parts.join(" ");
}
