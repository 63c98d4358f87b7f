/** Linearizable reads by ReadIndex: a heartbeat quorum confirms leadership before any answer. */
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";
import { ReadOnly } from "./read-only.js";

const three = ["n1", "n2", "n3"];

describe("ReadIndex", () => {
  it("on the leader: answers with its commit index after a heartbeat round carrying the request id", () => {
    const net = new Network(three);
    net.elect("n1");
    net.propose("n1", "x");
    const commit = net.raw("n1").status().commit;
    const before = net.delivered.length;
    net.raw("n1").readIndex("r1");
    expect(net.node("n1").readStates).toEqual([]);
    net.stabilize();
    expect(net.node("n1").readStates).toEqual([{ index: commit, requestId: "r1" }]);
    const round = net.delivered.slice(before);
    const key = ReadOnly.key("n1", "r1");
    expect(round.filter((m) => m.type === "heartbeat" && m.context === key).map((m) => m.to)).toEqual([
      "n2",
      "n3",
    ]);
    expect(round.filter((m) => m.type === "heartbeat-resp" && m.context === key)).toHaveLength(2);
  });

  it("through a follower: forwarded to the leader, and the ReadState comes back", () => {
    const net = new Network(three);
    net.elect("n1");
    net.propose("n1", "x");
    net.raw("n2").readIndex("r2");
    net.stabilize();
    expect(net.node("n2").readStates).toEqual([{ index: net.raw("n1").status().commit, requestId: "r2" }]);
    expect(net.node("n1").readStates).toEqual([]);
    expect(net.delivered.some((m) => m.type === "read-index" && m.from === "n2" && m.to === "n1")).toBe(true);
  });

  it("a leader cut off from its quorum never answers", () => {
    const net = new Network(three);
    net.elect("n1");
    net.isolate("n1");
    net.raw("n1").readIndex("r3");
    net.tick(5);
    expect(net.node("n1").readStates).toEqual([]);
  });

  it("a leader that has not yet committed an entry of its term defers reads until it has", () => {
    const raw = lone("n1", three, [e(1, 1)], 1);
    leadLone(raw, ["n2"]);
    raw.readIndex("r");
    expect(drain(raw).messages.filter((m) => m.type === "heartbeat")).toHaveLength(0);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 2, index: 2 });
    const key = ReadOnly.key("n1", "r");
    const heartbeats = drain(raw).messages.filter((m) => m.type === "heartbeat" && m.context === key);
    expect(heartbeats).toHaveLength(2);
    raw.step({ type: "heartbeat-resp", from: "n3", to: "n1", term: 2, context: key });
    expect(drain(raw).readStates).toEqual([{ index: 2, requestId: "r" }]);
  });

  it("one quorum acknowledgement confirms every earlier pending read", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.readIndex("a");
    raw.readIndex("b");
    drain(raw);
    raw.step({ type: "heartbeat-resp", from: "n3", to: "n1", term: 1, context: ReadOnly.key("n1", "b") });
    expect(drain(raw).readStates.map((r) => r.requestId)).toEqual(["a", "b"]);
  });

  it("an acknowledgement of an older round with the same id from another asker confirms nothing", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.readIndex("same");
    const own = ReadOnly.key("n1", "same");
    raw.step({ type: "heartbeat-resp", from: "n2", to: "n1", term: 1, context: own });
    expect(drain(raw).readStates).toEqual([{ index: 1, requestId: "same" }]);
    raw.step({ type: "read-index", from: "n3", to: "n1", term: 1, context: "same" });
    drain(raw);
    raw.step({ type: "heartbeat-resp", from: "n2", to: "n1", term: 1, context: own });
    expect(drain(raw).messages.filter((m) => m.type === "read-index-resp")).toEqual([]);
    raw.step({ type: "heartbeat-resp", from: "n2", to: "n1", term: 1, context: ReadOnly.key("n3", "same") });
    expect(drain(raw).messages.filter((m) => m.type === "read-index-resp")).toMatchObject([
      { to: "n3", index: 1, context: "same" },
    ]);
  });

  it("a single-voter leader answers at once; a node that knows no leader refuses", () => {
    const single = lone("n1", ["n1"]);
    single.tick();
    for (let i = 0; i < 20 && single.status().role !== "leader"; i++) single.tick();
    drain(single);
    single.readIndex("s");
    expect(drain(single).readStates).toEqual([{ index: 1, requestId: "s" }]);
    expect(() => lone("n2", three).readIndex("t")).toThrow(ProposalDroppedError);
  });
});
