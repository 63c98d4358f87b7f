/** Leadership transfer: catch the target up, send TimeoutNow, drop proposals meanwhile, abort on timeout. */
import { describe, expect, it } from "vitest";
import { ProposalDroppedError } from "./errors.js";
import { drain, leadLone, lone, Network } from "./network.test-helpers.js";

const three = ["n1", "n2", "n3"];

describe("leadership transfer", () => {
  it("hands leadership to a caught-up voter at once, past the other followers' leases", () => {
    const net = new Network(three);
    net.elect("n1");
    net.propose("n1", "x");
    const term = net.raw("n1").status().term;
    net.raw("n1").transferLeadership("n2");
    net.stabilize();
    expect(net.leader()).toBe("n2");
    expect(net.raw("n2").status().term).toBe(term + 1);
    expect(net.delivered.some((m) => m.type === "timeout-now" && m.to === "n2")).toBe(true);
    expect(net.delivered.some((m) => m.type === "prevote" && m.from === "n2")).toBe(false);
  });

  it("catches a lagging target up first and drops proposals meanwhile", () => {
    const net = new Network(three);
    net.elect("n1");
    net.blocked.add("n1>n3");
    net.propose("n1", "x");
    net.raw("n1").transferLeadership("n3");
    net.stabilize();
    expect(net.leader()).toBe("n1");
    expect(() => net.raw("n1").propose("y")).toThrow(ProposalDroppedError);
    net.heal();
    net.tick(2);
    expect(net.leader()).toBe("n3");
    expect(net.node("n3").disk.commands).toEqual(["x"]);
  });

  it("sends TimeoutNow only once the target holds the leader's whole log", () => {
    const raw = lone("n1", three);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    raw.propose("x");
    drain(raw);
    raw.transferLeadership("n3");
    expect(drain(raw).messages.filter((m) => m.type === "timeout-now")).toEqual([]);
    raw.step({ type: "append-resp", from: "n3", to: "n1", term: 1, index: 1 });
    expect(drain(raw).messages.filter((m) => m.type === "timeout-now")).toEqual([]);
    raw.step({ type: "append-resp", from: "n3", to: "n1", term: 1, index: 2 });
    expect(
      drain(raw)
        .messages.filter((m) => m.type === "timeout-now")
        .map((m) => m.to),
    ).toEqual(["n3"]);
  });

  it("aborts after an election timeout when the target does not catch up", () => {
    const net = new Network(three);
    net.elect("n1");
    net.isolate("n3");
    net.raw("n1").transferLeadership("n3");
    expect(net.propose("n1", "y")).toBe(false);
    net.tick(10);
    expect(net.leader()).toBe("n1");
    expect(net.raw("n1").raft.leadTransferee).toBeNull();
    expect(net.propose("n1", "y")).toBe(true);
  });

  it("removing the target aborts the transfer", () => {
    const net = new Network(["n1", "n2", "n3", "n4"]);
    net.elect("n1");
    for (const id of ["n2", "n3", "n4"]) net.isolate(id);
    expect(net.proposeConfChange("n1", { type: "remove-node", nodeId: "n4" })).toBe(true);
    net.raw("n1").transferLeadership("n4");
    expect(net.raw("n1").raft.leadTransferee).toBe("n4");
    net.heal();
    net.isolate("n4");
    net.tick(1);
    expect(net.raw("n1").status().confState.voters).toEqual(["n1", "n2", "n3"]);
    expect(net.raw("n1").raft.leadTransferee).toBeNull();
    expect(net.leader()).toBe("n1");
  });

  it("a follower forwards the request to the leader; a learner or the leader itself is no target", () => {
    const net = new Network(three);
    net.elect("n1");
    net.add("n4");
    net.proposeConfChange("n1", { type: "add-learner", nodeId: "n4" });
    net.raw("n1").transferLeadership("n4");
    net.raw("n1").transferLeadership("n1");
    expect(net.raw("n1").raft.leadTransferee).toBeNull();
    net.raw("n2").transferLeadership("n3");
    net.stabilize();
    expect(net.leader()).toBe("n3");
  });
});
