/** Learners, promotion, removal, and the single-server change rules. */
import { describe, expect, it } from "vitest";
import { applyToConfState, confChangeProblem } from "./confchange.js";
import { ProposalDroppedError } from "./errors.js";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";

const three = ["n1", "n2", "n3"];

function withLearner(): Network {
  const net = new Network(three);
  net.elect("n1");
  net.propose("n1", "a");
  net.add("n4");
  expect(net.proposeConfChange("n1", { type: "add-learner", nodeId: "n4" })).toBe(true);
  return net;
}

describe("learners", () => {
  it("a learner receives the log and the configuration", () => {
    const net = withLearner();
    expect(net.node("n4").disk.commands).toEqual(["a"]);
    expect(net.raw("n4").status().confState).toEqual({ voters: three, learners: ["n4"] });
  });

  it("a learner never campaigns", () => {
    const net = withLearner();
    const term = net.raw("n1").status().term;
    net.isolate("n4");
    net.tick(60);
    expect(net.raw("n4").status()).toMatchObject({ role: "follower", term });
    expect(net.delivered.some((m) => m.from === "n4" && (m.type === "vote" || m.type === "prevote"))).toBe(
      false,
    );
  });

  it("a learner's vote and acknowledgements do not count for a quorum", () => {
    const candidate = lone("n1", three, [], 0, { learners: ["n4"], preVote: false });
    candidate.raft.campaign("vote", false);
    expect(drain(candidate).messages.map((m) => m.to)).toEqual(["n2", "n3"]);
    candidate.step({ type: "vote-resp", from: "n4", to: "n1", term: 1 });
    expect(candidate.status().role).toBe("candidate");

    const leader = lone("n1", three, [], 0, { learners: ["n4"] });
    leadLone(leader, ["n2"]);
    leader.step({ type: "append-resp", from: "n4", to: "n1", term: 1, index: 1 });
    expect(leader.inspect().commit).toBe(0);
    leader.step({ type: "append-resp", from: "n3", to: "n1", term: 1, index: 1 });
    expect(leader.inspect().commit).toBe(1);
  });
});

describe("membership changes", () => {
  it("promotes a learner with add-voter; it then counts and may lead", () => {
    const net = withLearner();
    expect(net.proposeConfChange("n1", { type: "add-voter", nodeId: "n4" })).toBe(true);
    for (const id of ["n1", "n2", "n3", "n4"])
      expect(net.raw(id).status().confState).toEqual({ voters: ["n1", "n2", "n3", "n4"], learners: [] });
    net.isolate("n2");
    net.isolate("n3");
    // n1 and n4 are two of four voters: no quorum, nothing commits.
    expect(net.propose("n1", "b")).toBe(true);
    expect(net.node("n1").disk.commands).toEqual(["a"]);
    net.heal();
    net.raw("n1").transferLeadership("n4");
    net.tick(2);
    expect(net.leader()).toBe("n4");
    expect(net.node("n4").disk.commands).toEqual(["a", "b"]);
  });

  it("removes a follower; the rest keep committing without it", () => {
    const net = new Network(three);
    net.elect("n1");
    expect(net.proposeConfChange("n1", { type: "remove-node", nodeId: "n3" })).toBe(true);
    expect(net.raw("n1").status().confState.voters).toEqual(["n1", "n2"]);
    net.crash("n3");
    expect(net.propose("n1", "x")).toBe(true);
    expect(net.node("n2").disk.commands).toEqual(["x"]);
  });

  it("a removal lets pending entries commit with the smaller quorum", () => {
    const raw = lone("n1", ["n1", "n2"]);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.proposeConfChange({ type: "remove-node", nodeId: "n2" });
    drain(raw);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 2 });
    const committed = drain(raw).committedEntries;
    expect(committed.map((x) => x.type)).toEqual(["conf-change"]);
    raw.propose("x");
    drain(raw);
    expect(raw.inspect().commit).toBe(2);
    raw.applyConfChange({ type: "remove-node", nodeId: "n2" });
    expect(raw.inspect().commit).toBe(3);
  });

  it("a removed leader steps down and the remaining voters elect a new one", () => {
    const net = new Network(three);
    net.elect("n1");
    expect(net.proposeConfChange("n1", { type: "remove-node", nodeId: "n1" })).toBe(true);
    expect(net.raw("n1").status().role).toBe("follower");
    net.tick(40);
    expect(["n2", "n3"]).toContain(net.leader());
    expect(net.raw("n1").status().role).toBe("follower");
  });

  it("allows one pending change at a time", () => {
    const net = new Network(three);
    net.elect("n1");
    net.raw("n1").proposeConfChange({ type: "add-learner", nodeId: "n4" });
    expect(() => net.raw("n1").proposeConfChange({ type: "remove-node", nodeId: "n3" })).toThrow(
      /already in progress/,
    );
    net.stabilize();
    expect(net.proposeConfChange("n1", { type: "remove-node", nodeId: "n3" })).toBe(true);
  });

  it("refuses a change before the leader has committed an entry of its term", () => {
    const raw = lone("n1", three, [e(1, 1)], 1);
    leadLone(raw, ["n2"]);
    expect(() => raw.proposeConfChange({ type: "add-learner", nodeId: "n9" })).toThrow(
      /not committed an entry of its term/,
    );
    expect(() => lone("n2", three).proposeConfChange({ type: "add-learner", nodeId: "n9" })).toThrow(
      ProposalDroppedError,
    );
  });

  it("checks each change against the configuration", () => {
    const cs = { voters: ["n1", "n2"], learners: ["n3"] };
    expect(confChangeProblem(cs, { type: "add-learner", nodeId: "n3" })).toMatch(/already a member/);
    expect(confChangeProblem(cs, { type: "add-voter", nodeId: "n2" })).toMatch(/already a voter/);
    expect(confChangeProblem(cs, { type: "remove-node", nodeId: "n9" })).toMatch(/not a member/);
    expect(
      confChangeProblem({ voters: ["n1"], learners: [] }, { type: "remove-node", nodeId: "n1" }),
    ).toMatch(/last voter/);
    expect(confChangeProblem(cs, { type: "add-voter", nodeId: "n3" })).toBeNull();
    expect(applyToConfState(cs, { type: "add-voter", nodeId: "n3" })).toEqual({
      voters: ["n1", "n2", "n3"],
      learners: [],
    });
    expect(applyToConfState(cs, { type: "remove-node", nodeId: "n1" })).toEqual({
      voters: ["n2"],
      learners: ["n3"],
    });
  });
});
