/** Replication flow control: probe and replicate states, the inflight window, batching, backtracking. */
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";
import type { Message } from "./types.js";

const three = ["n1", "n2", "n3"];
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
