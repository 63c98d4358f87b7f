/**
 * The rules of the Raft paper's Figure 2 (named like etcd's raft_paper_test.go), each checked on a
 * lone node stepped by hand or on a small in-memory cluster.
 */
import { describe, expect, it } from "vitest";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";
import { RawNode } from "./raw-node.js";
import { MemoryStorage } from "./storage.js";
import type { Message } from "./types.js";

const three = ["n1", "n2", "n3"];
const ofType = (messages: Message[], type: Message["type"]) => messages.filter((m) => m.type === type);

describe("Figure 2: rules for all servers", () => {
  it("a server that sees a higher term adopts it and becomes a follower", () => {
    for (const type of ["append", "heartbeat", "append-resp", "vote-resp"] as const) {
      const raw = lone("n1", three);
      leadLone(raw, ["n2"]);
      raw.step({ type, from: "n2", to: "n1", term: 9, index: 0, logTerm: 0 });
      expect(raw.status()).toMatchObject({ role: "follower", term: 9 });
      expect(raw.status().lead).toBe(type === "append" || type === "heartbeat" ? "n2" : null);
    }
  });

  it("a server rejects a request with a stale term", () => {
    const raw = lone("n1", three, [e(1, 1)], 2);
    raw.step({ type: "append", from: "n2", to: "n1", term: 1, index: 1, logTerm: 1, entries: [e(2, 1)] });
    raw.step({ type: "vote", from: "n3", to: "n1", term: 1, index: 5, logTerm: 1 });
    const messages = drain(raw).messages;
    // The stale leader only learns the newer term; the stale candidate gets nothing.
    expect(messages).toEqual([{ type: "append-resp", from: "n1", to: "n2", term: 2 }]);
    expect(raw.inspect()).toMatchObject({ lastIndex: 1, term: 2, vote: null });
  });

  it("committed entries are applied in log order, each exactly once", () => {
    const net = new Network(three);
    net.elect("n1");
    for (let i = 0; i < 10; i++) net.propose("n1", `c${i}`);
    net.crash("n2");
    net.restart("n2");
    for (let i = 10; i < 20; i++) net.propose("n1", `c${i}`);
    net.tick(2);
    const expected = Array.from({ length: 20 }, (_, i) => `c${i}`);
    for (const id of three) expect(net.node(id).disk.commands).toEqual(expected);
  });
});

describe("Figure 2: leader election", () => {
  it("a follower that hears nothing for an election timeout votes for itself and asks for votes", () => {
    const raw = lone("n1", three, [], 0, { preVote: false });
    for (let i = 0; i < 9; i++) raw.tick();
    expect(raw.status().role).toBe("follower");
    raw.tick();
    expect(raw.status()).toMatchObject({ role: "candidate", term: 1, vote: "n1" });
    const votes = ofType(drain(raw).messages, "vote");
    expect(votes.map((m) => [m.to, m.term, m.index, m.logTerm])).toEqual([
      ["n2", 1, 0, 0],
      ["n3", 1, 0, 0],
    ]);
  });

  it("election timeouts are randomized in [electionTick, 2 x electionTick)", () => {
    const waits = new Set<number>();
    for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
      const raw = new RawNode({
        id: "n1",
        storage: MemoryStorage.bootstrap(three),
        electionTick: 10,
        heartbeatTick: 1,
        random: () => r,
        preVote: false,
      });
      let ticks = 0;
      while (raw.status().role === "follower" && ticks < 100) {
        raw.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
      waits.add(ticks);
    }
    expect(waits.size).toBeGreaterThan(3);
  });

  it("a candidate that wins the votes of a majority becomes leader", () => {
    const raw = lone("n1", ["n1", "n2", "n3", "n4", "n5"], [], 0, { preVote: false });
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: 1 });
    raw.step({ type: "vote-resp", from: "n3", to: "n1", term: 1, reject: true });
    expect(raw.status().role).toBe("candidate");
    raw.step({ type: "vote-resp", from: "n4", to: "n1", term: 1 });
    expect(raw.status()).toMatchObject({ role: "leader", lead: "n1" });
  });

  it("a candidate that a majority refuses goes back to being a follower", () => {
    const raw = lone("n1", three, [], 0, { preVote: false });
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: 1, reject: true });
    raw.step({ type: "vote-resp", from: "n3", to: "n1", term: 1, reject: true });
    expect(raw.status()).toMatchObject({ role: "follower", term: 1 });
  });

  it("a candidate that hears from a leader of its term becomes its follower", () => {
    const raw = lone("n1", three, [], 0, { preVote: false });
    raw.raft.campaign("vote", false);
    raw.step({ type: "append", from: "n2", to: "n1", term: 1, index: 0, logTerm: 0, entries: [] });
    expect(raw.status()).toMatchObject({ role: "follower", term: 1, lead: "n2" });
  });

  it("a server votes at most once per term", () => {
    const raw = lone("n1", three);
    raw.step({ type: "vote", from: "n2", to: "n1", term: 1, index: 0, logTerm: 0 });
    raw.step({ type: "vote", from: "n3", to: "n1", term: 1, index: 0, logTerm: 0 });
    raw.step({ type: "vote", from: "n2", to: "n1", term: 1, index: 0, logTerm: 0 });
    const answers = ofType(drain(raw).messages, "vote-resp");
    expect(answers.map((m) => [m.to, m.reject === true])).toEqual([
      ["n2", false],
      ["n3", true],
      ["n2", false],
    ]);
    expect(raw.status().vote).toBe("n2");
  });

  it("a voter refuses a candidate whose log is less up to date", () => {
    const raw = lone("n1", ["n1", "n2"], [e(1, 1), e(2, 2)], 2);
    const answer = (index: number, logTerm: number, term: number) => {
      raw.step({ type: "vote", from: "n2", to: "n1", term, index, logTerm });
      return ofType(drain(raw).messages, "vote-resp")[0]?.reject === true;
    };
    expect(answer(5, 1, 3)).toBe(true); // longer log, older last term
    expect(answer(1, 2, 4)).toBe(true); // same last term, shorter log
    expect(answer(2, 2, 5)).toBe(false); // same last entry
    expect(answer(1, 3, 6)).toBe(false); // newer last term
  });

  it("a leader sends heartbeats every heartbeat interval", () => {
    const raw = lone("n1", three, [], 0, { heartbeatTick: 2 });
    leadLone(raw, ["n2"]);
    raw.tick();
    expect(ofType(drain(raw).messages, "heartbeat")).toHaveLength(0);
    raw.tick();
    const beats = ofType(drain(raw).messages, "heartbeat");
    expect(beats.map((m) => [m.to, m.term, m.commit])).toEqual([
      ["n2", 1, 0],
      ["n3", 1, 0],
    ]);
  });

  it("a new leader appends a no-op of its term", () => {
    const net = new Network(three);
    net.elect("n2");
    const raft = net.raw("n2").raft;
    const last = raft.log.entryAt(raft.log.lastIndex())!;
    expect(last).toMatchObject({ term: raft.term, data: "" });
    expect(raft.log.committed).toBe(last.index);
  });
});

describe("Figure 2: log replication", () => {
  it("a leader appends a proposal to its log and sends it to every follower", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    raw.step({ type: "append-resp", from: "n3", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.propose("x");
    const ready = drain(raw);
    expect(ready.entries).toEqual([{ index: 2, term: 1, type: "normal", data: "x" }]);
    const appends = ofType(ready.messages, "append");
    expect(appends.map((m) => [m.to, m.index, m.logTerm, m.commit, m.entries?.map((x) => x.data)])).toEqual([
      ["n2", 1, 1, 1, ["x"]],
      ["n3", 1, 1, 1, ["x"]],
    ]);
  });

  it("a leader commits an entry once a majority stored it, with every entry before it", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.propose("a");
    raw.propose("b");
    drain(raw);
    expect(raw.inspect().commit).toBe(1);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 3 });
    const ready = drain(raw);
    expect(ready.committedEntries.map((x) => x.data)).toEqual(["a", "b"]);
    // Followers learn the new commit index with the next append.
    expect(ofType(ready.messages, "append").every((m) => m.commit === 3)).toBe(true);
  });

  it("a follower applies entries once it learns that they are committed", () => {
    const raw = lone("n2", three);
    raw.step({
      type: "append",
      from: "n1",
      to: "n2",
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [e(1, 1), e(2, 1)],
    });
    expect(drain(raw).committedEntries).toEqual([]);
    raw.step({ type: "heartbeat", from: "n1", to: "n2", term: 1, commit: 2 });
    expect(drain(raw).committedEntries.map((x) => x.index)).toEqual([1, 2]);
  });

  it("a follower rejects an append whose previous entry does not match, with a hint", () => {
    const raw = lone("n2", ["n1", "n2"], [e(1, 1), e(2, 1), e(3, 1)], 1);
    const append = (index: number, logTerm: number) => {
      raw.step({ type: "append", from: "n1", to: "n2", term: 2, index, logTerm, entries: [e(index + 1, 2)] });
      return ofType(drain(raw).messages, "append-resp")[0]!;
    };
    expect(append(3, 2)).toMatchObject({ reject: true, index: 3, rejectHint: 3, logTerm: 1 });
    expect(append(5, 1)).toMatchObject({ reject: true, index: 5, rejectHint: 3, logTerm: 1 });
    expect(append(3, 1)).toMatchObject({ index: 4 });
    expect(append(3, 1).reject).toBeUndefined();
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
    });
    const ready = drain(raw);
    expect(ready.entries).toEqual([e(2, 2, "new")]);
    expect(raw.inspect().lastIndex).toBe(2);
    expect(raw.entryAt(2)).toEqual(e(2, 2, "new"));
    expect(ofType(ready.messages, "append-resp")[0]).toMatchObject({ index: 2 });
  });

  it("a follower keeps its entries when a delayed append repeats a prefix of them", () => {
    const raw = lone("n2", ["n1", "n2"], [e(1, 1), e(2, 1), e(3, 1)], 1);
    raw.step({ type: "append", from: "n1", to: "n2", term: 1, index: 0, logTerm: 0, entries: [e(1, 1)] });
    expect(raw.inspect().lastIndex).toBe(3);
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

  it("a leader brings an inconsistent follower's log in line with its own", () => {
    const net = new Network(three);
    const logs: Record<string, [number, number][]> = {
      n1: [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 3],
        [5, 3],
      ],
      n2: [
        [1, 1],
        [2, 1],
        [3, 2],
        [4, 2],
        [5, 2],
        [6, 2],
        [7, 2],
      ],
      n3: [[1, 1]],
    };
    for (const [id, log] of Object.entries(logs)) {
      const storage = net.node(id).disk.storage;
      storage.append(log.map(([index, term]) => e(index, term)));
      storage.setHardState({ term: 3, vote: null, commit: 1 });
      net.restart(id);
    }
    net.elect("n1");
    net.tick(2);
    const leader = net.raw("n1");
    const last = leader.inspect().lastIndex;
    expect(last).toBe(6);
    for (const id of ["n2", "n3"]) {
      for (let i = 1; i <= last; i++) expect(net.raw(id).entryAt(i)).toEqual(leader.entryAt(i));
      expect(net.raw(id).inspect()).toMatchObject({ lastIndex: 6, commit: 6 });
    }
  });

  it("a leader commits an entry of an earlier term only through an entry of its own term (Figure 8)", () => {
    // n1 leads term 3 with an entry 2@2 that only it has.
    const raw = lone("n1", three, [e(1, 1), e(2, 2)], 2);
    raw.raft.log.commitTo(1);
    leadLone(raw, ["n2"]);
    // n2 acknowledges 2@2 but not the no-op 3@3: counting replicas must not commit index 2.
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 3, index: 2 });
    expect(raw.inspect().commit).toBe(1);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 3, index: 3 });
    expect(raw.inspect().commit).toBe(3);
  });
});
