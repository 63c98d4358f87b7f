/** Replication flow control: probe and replicate states, the inflight window, batching, backtracking. */
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";
import { RawNode } from "./raw-node.js";
import type { MemoryStorage } from "./storage.js";
import type { Message, Ready } from "./types.js";

const three = ["n1", "n2", "n3"];
/** n1's first append to n2 in term 1: entry 1. */
const firstAppend: Message = {
  type: "append",
  from: "n1",
  to: "n2",
  term: 1,
  index: 0,
  logTerm: 0,
  entries: [e(1, 1)],
  commit: 0,
};
const appendsTo = (messages: Message[], to: string) =>
  messages.filter((m) => m.type === "append" && m.to === to);

describe("flow control", () => {
  it("sends one append at a time to a follower in probe state until it answers", () => {
    const raw = lone("n1", three);
    expect(appendsTo(leadLone(raw, ["n2"]), "n2")).toHaveLength(1);
    raw.propose("a");
    raw.propose("b");
    expect(appendsTo(drain(raw).messages, "n2")).toHaveLength(0);
    expect(raw.status().progress?.n2?.state).toBe("probe");
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    const appends = appendsTo(drain(raw).messages, "n2");
    expect(appends.flatMap((m) => m.entries?.map((x) => x.data))).toEqual(["a", "b"]);
    expect(raw.status().progress?.n2?.state).toBe("replicate");
  });

  it("keeps at most maxInflightMsgs appends in flight to a follower", () => {
    const raw = lone("n1", three, [], 0, { maxInflightMsgs: 2, maxSizePerMsg: 1 });
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    for (let i = 0; i < 10; i++) raw.propose(`p${i}`);
    expect(appendsTo(drain(raw).messages, "n2").map((m) => m.index)).toEqual([1, 2]);
    expect(raw.raft.prs.get("n2")!.isPaused()).toBe(true);
    // An acknowledgement frees one slot, so exactly one more append leaves.
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 2 });
    expect(appendsTo(drain(raw).messages, "n2").map((m) => m.index)).toEqual([3]);
    // A heartbeat answer from a follower whose window is full frees a slot too (lost appends).
    raw.step({ type: "heartbeat-resp", from: "n2", to: "n1", term: 1 });
    expect(appendsTo(drain(raw).messages, "n2").map((m) => m.index)).toEqual([4]);
  });

  it("batches entries into appends of at most maxSizePerMsg bytes", () => {
    const raw = lone("n1", three, [], 0, { maxSizePerMsg: 10 });
    leadLone(raw, ["n2"]);
    for (let i = 0; i < 9; i++) raw.propose(`abcd${i}`); // 5 bytes each
    drain(raw);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    const appends = appendsTo(drain(raw).messages, "n2");
    expect(appends.map((m) => m.entries?.length)).toEqual([2, 2, 2, 2, 1]);
    expect(appends.map((m) => m.index)).toEqual([1, 3, 5, 7, 9]);
  });

  it("falls back to probing when a follower is reported unreachable", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    expect(raw.status().progress?.n2?.state).toBe("replicate");
    raw.reportUnreachable("n2");
    expect(raw.status().progress?.n2).toMatchObject({ state: "probe", next: 2 });
  });
});

describe("fast backtracking", () => {
  it("repairs a follower's long divergent log in a couple of round trips, skipping whole terms", () => {
    const net = new Network(three);
    const build = (runs: [number, number, number][]) =>
      runs.flatMap(([from, to, term]) => Array.from({ length: to - from + 1 }, (_, i) => e(from + i, term)));
    const logs: Record<string, ReturnType<typeof build>> = {
      n1: build([
        [1, 30, 1],
        [31, 60, 3],
      ]),
      n2: build([
        [1, 30, 1],
        [31, 80, 2],
      ]),
      n3: build([
        [1, 30, 1],
        [31, 60, 3],
      ]),
    };
    for (const [id, log] of Object.entries(logs)) {
      net.node(id).disk.storage.append(log);
      net.node(id).disk.storage.setHardState({ term: 3, vote: null, commit: 30 });
      net.restart(id);
    }
    net.elect("n1");
    const toN2 = net.delivered.filter((m) => m.type === "append" && m.to === "n2");
    const rejections = net.delivered.filter((m) => m.type === "append-resp" && m.from === "n2" && m.reject);
    expect(rejections).toHaveLength(1);
    expect(toN2.length).toBeLessThanOrEqual(3);
    for (let i = 1; i <= 61; i++) expect(net.raw("n2").entryAt(i)).toEqual(net.raw("n1").entryAt(i));
    expect(net.raw("n2").inspect()).toMatchObject({ lastIndex: 61, commit: 61 });
  });

  it("the leader ignores a stale rejection", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    raw.propose("a");
    drain(raw);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 0, reject: true, rejectHint: 0 });
    expect(raw.status().progress?.n2).toMatchObject({ state: "replicate", match: 1, next: 3 });
  });
});

describe("proposals", () => {
  it("are dropped on a follower and over the uncommitted size limit", () => {
    expect(() => lone("n2", three).propose("x")).toThrow(ProposalDroppedError);
    const raw = lone("n1", three, [], 0, { maxUncommittedEntriesSize: 10 });
    leadLone(raw, ["n2"]);
    raw.propose("123456");
    expect(() => raw.propose("123456")).toThrow(/uncommitted/);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 2 });
    expect(drain(raw).committedEntries.map((x) => x.data)).toEqual(["", "123456"]);
    raw.propose("123456");
  });
});

describe("a leader's appends before its own write (thesis 10.2.1)", () => {
  const persist = (raw: RawNode, ready: Ready) => {
    const storage = raw.raft.log.storage as MemoryStorage;
    storage.append(ready.entries);
    if (ready.hardState) storage.setHardState(ready.hardState);
    raw.advance();
  };

  it("may send appends with entries first, but not from the Ready that records its new term and vote", () => {
    const raw = lone("n1", three);
    raw.raft.campaign("vote", false);
    persist(raw, raw.ready());
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: raw.raft.term });
    const elected = raw.ready();
    // The campaign's Ready recorded the term and the vote; the election's holds the empty entry.
    expect(elected.hardState?.term).toBeUndefined();
    persist(raw, elected);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: raw.raft.term, index: 1 });
    persist(raw, raw.ready());
    raw.propose("a");
    const ready = raw.ready();
    expect(ready.leaderMaySendFirst).toBe(true);
    const first = RawNode.sentFirst(ready);
    expect(first.map((m) => [m.to, m.entries?.map((x) => x.data)])).toEqual([["n2", ["a"]]]);
    // Everything else (heartbeats, commit notices, answers) still waits for the write.
    expect(ready.messages.filter((m) => !first.includes(m)).every((m) => !m.entries?.length)).toBe(true);
  });

  it("never in a Ready that changes the term or the vote", () => {
    const raw = lone("n1", three);
    raw.raft.campaign("vote", false);
    raw.step({ type: "vote-resp", from: "n2", to: "n1", term: raw.raft.term });
    // The vote for itself was never persisted: the first leader Ready carries it.
    const ready = raw.ready();
    expect(raw.raft.role).toBe("leader");
    expect(ready.hardState?.vote).toBe("n1");
    expect(ready.leaderMaySendFirst).toBe(false);
    expect(RawNode.sentFirst(ready)).toEqual([]);
  });

  it("never on a follower: its answers wait for its write", () => {
    const raw = lone("n2", three);
    raw.step(firstAppend);
    const ready = raw.ready();
    expect(ready.messages.map((m) => m.type)).toContain("append-resp");
    expect(ready.leaderMaySendFirst).toBe(false);
    expect(RawNode.sentFirst(ready)).toEqual([]);
  });
});

describe("proposals on a follower (etcd's MsgProp)", () => {
  it("forwards a proposal to the leader it knows, which appends it as its own", () => {
    const follower = lone("n2", three);
    follower.step({ type: "heartbeat", from: "n1", to: "n2", term: 1, commit: 0 });
    drain(follower);
    follower.propose("x", true);
    const [forwarded] = drain(follower).messages.filter((m) => m.type === "propose");
    expect(forwarded).toMatchObject({ from: "n2", to: "n1", term: 1 });
    expect(forwarded!.entries?.map((x) => x.data)).toEqual(["x"]);
    expect(follower.raft.log.lastIndex()).toBe(0); // nothing appended on the follower

    const leader = lone("n1", three);
    leadLone(leader, ["n2"]);
    const before = leader.raft.log.lastIndex();
    leader.step({ ...forwarded!, term: leader.raft.term });
    expect(leader.raft.log.lastIndex()).toBe(before + 1);
    expect(leader.raft.log.entryAt(before + 1)).toMatchObject({ data: "x", term: leader.raft.term });
  });

  it("goes out while the follower's last Ready is still being written, its answers left for after", () => {
    const follower = lone("n2", three);
    follower.step({ type: "heartbeat", from: "n1", to: "n2", term: 1, commit: 0 });
    drain(follower);
    follower.step(firstAppend);
    const writing = follower.ready(); // taken, not yet persisted: no advance()
    expect(writing.messages.map((m) => m.type)).toEqual(["append-resp"]);
    follower.step({ ...firstAppend, index: 1, logTerm: 1, entries: [e(2, 1)] });
    follower.propose("x", true);
    follower.readIndex("r1");
    const requests = follower.takeRequests();
    expect(requests.map((m) => [m.type, m.to])).toEqual([
      ["propose", "n1"],
      ["read-index", "n1"],
    ]);
    expect(requests[0]!.entries?.map((x) => x.data)).toEqual(["x"]);
    expect(follower.takeRequests()).toEqual([]);
    // The answer to the second append still waits for its own Ready, after the first is written.
    expect(follower.raft.msgs.map((m) => m.type)).toEqual(["append-resp"]);
  });

  it("refuses it without `forward`, without a known leader, and for a membership change", () => {
    const follower = lone("n2", three);
    expect(() => follower.propose("x", true)).toThrow(ProposalDroppedError); // no leader known yet
    follower.step({ type: "heartbeat", from: "n1", to: "n2", term: 1, commit: 0 });
    expect(() => follower.propose("x")).toThrow(ProposalDroppedError);
    expect(() => follower.proposeConfChange({ type: "remove-node", nodeId: "n3" })).toThrow(
      ProposalDroppedError,
    );
  });

  it("is dropped by a node that no longer leads, or by a leader of another term", () => {
    const leader = lone("n1", three);
    leadLone(leader, ["n2"]);
    const last = leader.raft.log.lastIndex();
    const forwarded = (term: number): Message => ({
      type: "propose",
      from: "n2",
      to: "n1",
      term,
      entries: [e(0, 0, "late")],
    });
    leader.step(forwarded(leader.raft.term - 1));
    leader.step(forwarded(leader.raft.term + 1));
    expect(leader.raft.log.lastIndex()).toBe(last);
    expect(leader.raft.role).toBe("leader"); // a proposal never makes a leader step down

    const follower = lone("n3", three);
    follower.step({ type: "heartbeat", from: "n1", to: "n3", term: 1, commit: 0 });
    follower.step({ ...forwarded(1), to: "n3" });
    expect(follower.raft.log.lastIndex()).toBe(0);
    expect(drain(follower).messages.filter((m) => m.type === "propose")).toEqual([]);
  });
});
