/**
 * A small in-memory cluster for the core's unit tests: RawNodes over MemoryStorage, a FIFO
 * network with cuttable links, and a driver loop that follows the persistence contract (persist,
 * send, apply, advance). Kept apart from the simulator so the core's tests do not depend on it.
 */
import { decodeConfChange } from "./confchange.js";
import { RawNode } from "./raw-node.js";
import { MemoryStorage } from "./storage.js";
import type { ConfChange, Entry, Message, RaftConfig, ReadState, Ready } from "./types.js";

/** What survives a crash: the Raft storage and the state machine (a list of applied commands). */
export interface Disk {
  storage: MemoryStorage;
  applied: number;
  commands: string[];
}

export interface TestNode {
  id: string;
  disk: Disk;
  raw: RawNode | null;
  readStates: ReadState[];
}

export type NodeOptions = Partial<Omit<RaftConfig, "id" | "storage" | "random" | "applied">>;

/** A seeded PRNG (mulberry32) so that every test replays identically. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Network {
  readonly nodes = new Map<string, TestNode>();
  /** Cut links, as "from>to". */
  readonly blocked = new Set<string>();
  /** Every message that reached its destination, in order. */
  readonly delivered: Message[] = [];
  private queue: Message[] = [];
  private readonly random: () => number;

  constructor(
    readonly voters: string[],
    readonly options: NodeOptions = {},
    seed = 1,
  ) {
    this.random = seeded(seed);
    for (const id of voters) this.add(id, MemoryStorage.bootstrap(voters));
  }

  /** Add a node; by default one about to join, whose storage knows the initial voters. */
  add(id: string, storage = MemoryStorage.bootstrap(this.voters)): TestNode {
    const node: TestNode = { id, disk: { storage, applied: 0, commands: [] }, raw: null, readStates: [] };
    this.nodes.set(id, node);
    this.start(node);
    return node;
  }

  node(id: string): TestNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  raw(id: string): RawNode {
    const raw = this.node(id).raw;
    if (!raw) throw new Error(`${id} is down`);
    return raw;
  }

  private start(node: TestNode): void {
    const { storage } = node.disk;
    node.raw = new RawNode({
      electionTick: 10,
      heartbeatTick: 1,
      ...this.options,
      id: node.id,
      storage,
      random: this.random,
      applied: node.disk.applied,
    });
    // The storage's configuration is the snapshot's: replay the changes applied since.
    const from = storage.snapshot().meta.index + 1;
    if (node.disk.applied >= from) {
      for (const entry of storage.entries(from, node.disk.applied + 1)) {
        if (entry.type === "conf-change") node.raw.applyConfChange(decodeConfChange(entry.data));
      }
    }
  }

  /** Lose everything not persisted. */
  crash(id: string): void {
    this.node(id).raw = null;
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  restart(id: string): void {
    this.start(this.node(id));
  }

  /** Handle every Ready of one node, the way a driver must. */
  process(id: string): void {
    const node = this.node(id);
    const raw = node.raw;
    if (!raw) return;
    for (let round = 0; round < 100 && raw.hasReady(); round++) {
      const ready = raw.ready();
      const { storage } = node.disk;
      if (ready.snapshot) storage.applySnapshot(ready.snapshot);
      storage.append(ready.entries);
      if (ready.hardState) storage.setHardState(ready.hardState);
      this.queue.push(...ready.messages);
      if (ready.snapshot) {
        node.disk.commands = JSON.parse(ready.snapshot.data) as string[];
        node.disk.applied = ready.snapshot.meta.index;
      }
      for (const entry of ready.committedEntries) this.apply(node, raw, entry);
      node.readStates.push(...ready.readStates);
      raw.advance();
    }
  }

  private apply(node: TestNode, raw: RawNode, entry: Entry): void {
    if (entry.index !== node.disk.applied + 1)
      throw new Error(`${node.id} applies ${entry.index} after ${node.disk.applied}`);
    if (entry.type === "conf-change") raw.applyConfChange(decodeConfChange(entry.data));
    else if (entry.data !== "") node.disk.commands.push(entry.data);
    node.disk.applied = entry.index;
  }

  /** Deliver messages (and the ones they cause) until the network is quiet. */
  stabilize(maxMessages = 20_000): void {
    for (const id of this.nodes.keys()) this.process(id);
    let budget = maxMessages;
    while (this.queue.length > 0) {
      if (budget-- <= 0) throw new Error("the network did not settle");
      const m = this.queue.shift()!;
      const target = this.nodes.get(m.to);
      if (!target?.raw || this.blocked.has(`${m.from}>${m.to}`)) continue;
      this.delivered.push(m);
      target.raw.step(m);
      this.process(m.to);
    }
  }

  /** Tick every live node `n` times, settling the network after each tick. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.raw?.tick();
      this.stabilize();
    }
  }

  /** Make `id` campaign now, past PreVote and leases (as TimeoutNow does), and settle. */
  elect(id: string): void {
    this.raw(id).raft.campaign("vote", true);
    this.stabilize();
  }

  leader(): string | undefined {
    let best: { id: string; term: number } | undefined;
    for (const node of this.nodes.values()) {
      const raft = node.raw?.raft;
      if (raft?.role === "leader" && (!best || raft.term > best.term))
        best = { id: node.id, term: raft.term };
    }
    return best?.id;
  }

  /** Propose through `id` and settle; false when the proposal was dropped. */
  propose(id: string, data: string): boolean {
    try {
      this.raw(id).propose(data);
    } catch {
      return false;
    }
    this.stabilize();
    return true;
  }

  proposeConfChange(id: string, cc: ConfChange): boolean {
    try {
      this.raw(id).proposeConfChange(cc);
    } catch {
      return false;
    }
    this.stabilize();
    return true;
  }

  /** Cut `id` off from every other node, both ways. */
  isolate(id: string): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.blocked.add(`${id}>${other}`);
      this.blocked.add(`${other}>${id}`);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Snapshot `id`'s state machine at its applied index and compact its log up to there. */
  compact(id: string): void {
    const node = this.node(id);
    const raw = this.raw(id);
    const { storage } = node.disk;
    storage.createSnapshot(node.disk.applied, raw.raft.confState(), JSON.stringify(node.disk.commands));
    storage.compact(node.disk.applied);
  }
}

/** An entry for hand-built logs. */
export const entry = (index: number, term: number, data = `e${index}`): Entry => ({
  index,
  term,
  type: "normal",
  data,
});

/** A lone RawNode to step by hand, with the given stored log and term; random() = 0. */
export function lone(
  id: string,
  voters: string[],
  entries: Entry[] = [],
  term = 0,
  { learners = [], ...options }: NodeOptions & { learners?: string[] } = {},
): RawNode {
  const storage = MemoryStorage.bootstrap(voters, learners);
  storage.append(entries);
  storage.setHardState({ term, vote: null, commit: 0 });
  return new RawNode({ electionTick: 10, heartbeatTick: 1, ...options, id, storage, random: () => 0 });
}

/** Make a lone node leader of the next term with the votes of `voters`; returns the leader's messages. */
export function leadLone(raw: RawNode, voters: string[]): Message[] {
  raw.raft.campaign("vote", false);
  for (const from of voters) raw.step({ type: "vote-resp", from, to: raw.raft.id, term: raw.raft.term });
  if (raw.raft.role !== "leader") throw new Error(`${raw.raft.id} did not win`);
  return drain(raw).messages;
}

/** Handle a lone node's next Ready like a driver (persist, then advance); returns it. */
export function drain(raw: RawNode): Ready {
  const ready = raw.ready();
  const storage = raw.raft.log.storage as MemoryStorage;
  if (ready.snapshot) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState) storage.setHardState(ready.hardState);
  raw.advance();
  return ready;
}
