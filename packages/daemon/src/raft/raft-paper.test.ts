/**
 * The rules of the Raft paper's Figure 2 and the features around them, each as a scenario on a
 * small in-memory cluster (the simulator's, with a perfect network unless a test cuts links).
 */
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { RawNode } from "./raw-node.js";
import { Cluster, type SimNode } from "./sim/cluster.js";
import { Prng } from "./sim/prng.js";
import { MemoryStorage } from "./storage.js";
import type { Entry, Message } from "./types.js";

function cluster(n = 3, options: Partial<ConstructorParameters<typeof Cluster>[0]> = {}): Cluster {
  return new Cluster({ ids: Array.from({ length: n }, (_, i) => `n${i + 1}`), rng: new Prng(7), ...options });
}

function node(c: Cluster, id: string): SimNode {
  return c.nodes.get(id)!;
}

/** Make `id` campaign now (forced past leader leases, like a transfer) and settle the network. */
function elect(c: Cluster, id: string): void {
  node(c, id).raw!.raft.campaign("vote", true);
  c.process(node(c, id));
  c.stabilize();
}

function put(c: Cluster, id: string, key: string, value: string): boolean {
  const ok = c.propose(id, JSON.stringify({ op: "put", key, value, client: "t", req: 0 }));
  c.stabilize();
  return ok;
}

function cut(c: Cluster, id: string): void {
  for (const other of c.nodes.keys()) {
    if (other === id) continue;
    c.blocked.add(`${id}>${other}`);
    c.blocked.add(`${other}>${id}`);
  }
}

function ticks(c: Cluster, n: number): void {
  for (let i = 0; i < n; i++) c.step();
}

/** A lone RawNode to step by hand, with the given log. */
function lone(id: string, voters: string[], entries: Entry[] = [], term = 0): RawNode {
  const storage = MemoryStorage.bootstrap(voters);
  storage.append(entries);
  storage.setHardState({ term, vote: null, commit: 0 });
  return new RawNode({ id, storage, electionTick: 10, heartbeatTick: 1, random: () => 0 });
}

const e = (index: number, term: number, data = `e${index}`): Entry => ({ index, term, type: "normal", data });
const sent = (raw: RawNode): Message[] => raw.ready().messages;

describe("Figure 2: elections", () => {
  it("a follower that hears nothing for an election timeout campaigns and a majority elects it", () => {
    const c = cluster();
    ticks(c, 40);
    const leader = c.leader();
    expect(leader).toBeDefined();
    expect([...c.nodes.values()].filter((n) => n.raw!.raft.role === "leader")).toHaveLength(1);
    expect(node(c, leader!.id).raw!.raft.term).toBeGreaterThan(0);
  });

  it("a server votes at most once per term", () => {
    const raw = lone("n1", ["n1", "n2", "n3"]);
    raw.step({ type: "vote", from: "n2", to: "n1", term: 1, index: 0, logTerm: 0 });
    raw.step({ type: "vote", from: "n3", to: "n1", term: 1, index: 0, logTerm: 0 });
    const answers = sent(raw).filter((m) => m.type === "vote-resp");
    expect(answers.map((m) => [m.to, m.reject === true])).toEqual([
      ["n2", false],
      ["n3", true],
    ]);
    expect(raw.status().vote).toBe("n2");
  });

  it("a voter refuses a candidate whose log is less up to date", () => {
    const raw = lone("n1", ["n1", "n2"], [e(1, 1), e(2, 2)], 2);
    raw.step({ type: "vote", from: "n2", to: "n1", term: 3, index: 5, logTerm: 1 });
    expect(sent(raw).find((m) => m.type === "vote-resp")?.reject).toBe(true);
    raw.step({ type: "vote", from: "n2", to: "n1", term: 3, index: 2, logTerm: 2 });
    expect(sent(raw).find((m) => m.type === "vote-resp")?.reject).toBeUndefined();
  });

  it("a server that sees a higher term adopts it and becomes a follower", () => {
    const c = cluster();
    elect(c, "n1");
    const leader = node(c, "n1").raw!;
    leader.step({ type: "append-resp", from: "n2", to: "n1", term: 9, index: 0 });
    expect(leader.status()).toMatchObject({ role: "follower", term: 9 });
  });

  it("a new leader appends a no-op of its term", () => {
    const c = cluster();
    elect(c, "n2");
    const raft = node(c, "n2").raw!.raft;
    const last = raft.log.entryAt(raft.log.lastIndex())!;
    expect(last).toMatchObject({ term: raft.term, data: "" });
    expect(raft.log.committed).toBe(last.index);
  });
});

describe("Figure 2: log replication", () => {
  it("a follower rejects an append whose previous entry does not match, with a hint", () => {
    const raw = lone("n2", ["n1", "n2"], [e(1, 1), e(2, 1), e(3, 1)], 1);
    raw.step({
      type: "append",
      from: "n1",
      to: "n2",
      term: 2,
      index: 3,
      logTerm: 2,
      entries: [e(4, 2)],
      commit: 0,
    });
    const answer = sent(raw).find((m) => m.type === "append-resp")!;
    expect(answer).toMatchObject({ reject: true, index: 3, rejectHint: 3, logTerm: 1 });
  });

  it("a follower deletes conflicting entries and appends the leader's", () => {
    const raw = lone("n2", ["n1", "n2"], [e(1, 1), e(2, 1), e(3, 1)], 1);
    raw.step({
      type: "append",
      from: "n1",
      to: "n2",
      term: 2,
      index: 1,
      logTerm: 1,
      entries: [e(2, 2, "new")],
      commit: 0,
    });
    const ready = raw.ready();
    expect(ready.entries).toEqual([e(2, 2, "new")]);
    expect(raw.inspect().lastIndex).toBe(2);
    expect(ready.messages.find((m) => m.type === "append-resp")).toMatchObject({ index: 2 });
  });

  it("a follower sets its commit index to min(leaderCommit, index of last new entry)", () => {
    const raw = lone("n2", ["n1", "n2"]);
    raw.step({
      type: "append",
      from: "n1",
      to: "n2",
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [e(1, 1), e(2, 1)],
      commit: 5,
    });
    expect(raw.inspect().commit).toBe(2);
  });

  it("replicates and commits a proposal on every node", () => {
    const c = cluster(5);
    elect(c, "n1");
    expect(put(c, "n1", "x", "1")).toBe(true);
    for (const n of c.nodes.values()) expect(n.disk.kv.data.x).toBe("1");
  });

  it("repairs a follower's long divergent log in a few round trips (fast backtracking)", () => {
    const c = cluster(3, { maxSizePerMsg: 1_000_000 });
    elect(c, "n1");
    cut(c, "n1");
    for (let i = 0; i < 50; i++)
      c.propose("n1", JSON.stringify({ op: "put", key: "stale", value: `${i}`, client: "t", req: i }));
    c.stabilize();
    c.blocked.clear();
    cut(c, "n1");
    c.blocked.delete("n2>n3");
    c.blocked.delete("n3>n2");
    elect(c, "n2");
    for (let i = 0; i < 30; i++)
      c.propose("n2", JSON.stringify({ op: "put", key: "k", value: `${i}`, client: "t", req: i }));
    c.stabilize();
    c.blocked.clear();
    let appends = 0;
    const original = c.deliver.bind(c);
    c.deliver = (m: Message) => {
      if (m.type === "append" && m.to === "n1") appends++;
      original(m);
    };
    ticks(c, 3);
    c.stabilize();
    expect(node(c, "n1").disk.kv.data.k).toBe("29");
    expect(node(c, "n1").disk.kv.data.stale).toBeUndefined();
    expect(appends).toBeLessThan(10);
  });

  it("keeps at most maxInflightMsgs appends in flight to a follower", () => {
    const c = cluster(3, { maxInflightMsgs: 2, maxSizePerMsg: 1 });
    elect(c, "n1");
    const leader = node(c, "n1").raw!;
    c.blocked.add("n2>n1");
    c.blocked.add("n3>n1");
    for (let i = 0; i < 10; i++)
      c.propose("n1", JSON.stringify({ op: "put", key: "k", value: `${i}`, client: "t", req: i }));
    const progress = leader.raft.prs.get("n2")!;
    expect(progress.state).toBe("replicate");
    expect(progress.inflights.count()).toBe(2);
    expect(progress.isPaused()).toBe(true);
  });

  it("commits an entry of an earlier term only through an entry of its own term (Figure 8)", () => {
    // n1 leads term 2 with an extra entry 2@2 that only n1 has.
    const raw = lone("n1", ["n1", "n2", "n3"], [e(1, 1), e(2, 2)], 2);
    raw.raft.log.commitTo(1);
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: 3 });
    expect(raw.status().role).toBe("leader");
    // n2 acknowledges 2@2 but not the no-op 3@3: counting replicas must not commit index 2.
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 3, index: 2 });
    expect(raw.inspect().commit).toBe(1);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 3, index: 3 });
    expect(raw.inspect().commit).toBe(3);
  });
});

describe("PreVote and CheckQuorum", () => {
  it("a partitioned node does not raise its term, and does not disrupt the cluster when it returns", () => {
    const c = cluster();
    elect(c, "n1");
    const term = node(c, "n1").raw!.raft.term;
    cut(c, "n3");
    ticks(c, 100);
    expect(node(c, "n3").raw!.raft.term).toBe(term);
    c.blocked.clear();
    ticks(c, 30);
    expect(c.leader()?.id).toBe("n1");
    expect(node(c, "n1").raw!.raft.term).toBe(term);
  });

  it("a leader that lost its quorum steps down", () => {
    const c = cluster();
    elect(c, "n1");
    cut(c, "n1");
    ticks(c, 25);
    expect(node(c, "n1").raw!.raft.role).toBe("follower");
  });
});

describe("ReadIndex", () => {
  it("confirms leadership with a quorum round before answering, on the leader and through a follower", () => {
    const c = cluster();
    elect(c, "n1");
    const reads: string[] = [];
    (c as unknown as { hooks: { onRead: (n: SimNode, id: string) => void } }).hooks.onRead = (n, id) =>
      reads.push(`${n.id}:${id}`);
    c.readIndex("n1", "r1");
    expect(reads).toEqual([]);
    c.stabilize();
    c.readIndex("n2", "r2");
    c.stabilize();
    expect(reads).toEqual(["n1:r1", "n2:r2"]);
    cut(c, "n1");
    c.readIndex("n1", "r3");
    c.stabilize();
    expect(reads).toHaveLength(2);
  });

  it("defers reads until the new leader has committed an entry of its term", () => {
    const raw = lone("n1", ["n1", "n2", "n3"], [e(1, 1)], 1);
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: 2 });
    raw.ready();
    raw.readIndex("r");
    expect(raw.ready().messages.filter((m) => m.type === "heartbeat")).toHaveLength(0);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 2, index: 2 });
    const heartbeats = raw.ready().messages.filter((m) => m.type === "heartbeat" && m.context === "r");
    expect(heartbeats).toHaveLength(2);
    raw.step({ type: "heartbeat-resp", from: "n3", to: "n1", term: 2, context: "r" });
    expect(raw.ready().readStates).toEqual([{ index: 2, requestId: "r" }]);
  });
});

describe("leadership transfer", () => {
  it("hands leadership to a caught-up voter with TimeoutNow and drops proposals meanwhile", () => {
    const c = cluster();
    elect(c, "n1");
    c.blocked.add("n1>n3");
    put(c, "n1", "x", "1"); // n3 falls behind
    c.transferLeadership("n1", "n3");
    expect(() => node(c, "n1").raw!.propose("x")).toThrow(ProposalDroppedError);
    c.blocked.clear();
    ticks(c, 3);
    c.stabilize();
    expect(c.leader()?.id).toBe("n3");
  });
});

describe("membership", () => {
  it("a learner catches up, never campaigns or counts for quorum, then is promoted and removed", () => {
    const c = new Cluster({ ids: ["n1", "n2", "n3"], spares: ["n4"], rng: new Prng(3) });
    elect(c, "n1");
    put(c, "n1", "a", "1");
    expect(c.proposeConfChange("n1", { type: "add-learner", nodeId: "n4" })).toBe(true);
    c.stabilize();
    const n4 = node(c, "n4");
    expect(n4.disk.kv.data.a).toBe("1");
    expect(n4.raw!.raft.confState()).toEqual({ voters: ["n1", "n2", "n3"], learners: ["n4"] });
    cut(c, "n4");
    ticks(c, 60);
    expect(n4.raw!.raft.role).toBe("follower");
    expect(n4.raw!.raft.term).toBe(node(c, "n1").raw!.raft.term);
    c.blocked.clear();
    expect(c.proposeConfChange("n1", { type: "add-voter", nodeId: "n4" })).toBe(true);
    expect(c.proposeConfChange("n1", { type: "remove-node", nodeId: "n2" })).toBe(false); // one change at a time
    c.stabilize();
    expect(node(c, "n1").raw!.raft.confState().voters).toEqual(["n1", "n2", "n3", "n4"]);
    expect(c.proposeConfChange("n1", { type: "remove-node", nodeId: "n1" })).toBe(true);
    c.stabilize();
    ticks(c, 40);
    expect(node(c, "n1").raw!.raft.role).not.toBe("leader");
    expect(["n2", "n3", "n4"]).toContain(c.leader()?.id);
  });

  it("refuses a conf change before the leader committed an entry of its term", () => {
    const raw = lone("n1", ["n1", "n2", "n3"], [e(1, 1)], 1);
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: 2 });
    expect(() => raw.proposeConfChange({ type: "add-learner", nodeId: "n9" })).toThrow(
      /not committed an entry of its term/,
    );
  });
});

describe("snapshots and restarts", () => {
  it("catches up a far-behind follower with a snapshot after compaction", () => {
    const c = cluster(3, { snapshotEvery: 10 });
    elect(c, "n1");
    c.crash("n3");
    for (let i = 0; i < 40; i++) put(c, "n1", "k", `${i}`);
    expect(node(c, "n1").disk.storage.firstIndex()).toBeGreaterThan(2);
    let snapshots = 0;
    const original = c.deliver.bind(c);
    c.deliver = (m: Message) => {
      if (m.type === "snapshot") snapshots++;
      original(m);
    };
    c.restart("n3");
    ticks(c, 10);
    c.stabilize();
    expect(snapshots).toBeGreaterThan(0);
    expect(node(c, "n3").disk.kv.data.k).toBe("39");
  });

  it("restarts from storage without applying anything twice", () => {
    const c = cluster();
    elect(c, "n1");
    put(c, "n1", "x", "1");
    const applied = node(c, "n2").disk.kv.applied;
    c.crash("n2");
    c.restart("n2");
    const raw = node(c, "n2").raw!;
    expect(raw.inspect().applied).toBe(applied);
    expect(raw.hasReady() ? raw.ready().committedEntries : []).toEqual([]);
  });
});
