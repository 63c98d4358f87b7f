/** PreVote, CheckQuorum and the leader lease: nodes that cannot win must not disrupt. */
import { describe, expect, it } from "vitest";
import { drain, lone, Network } from "./network.test-helpers.js";

const three = ["n1", "n2", "n3"];

describe("PreVote", () => {
  it("keeps a partitioned node from raising its term, so it does not disrupt the cluster when it returns", () => {
    const net = new Network(three);
    net.elect("n1");
    const term = net.raw("n1").status().term;
    net.isolate("n3");
    net.tick(100);
    expect(net.raw("n3").status()).toMatchObject({ term, role: "pre-candidate" });
    net.heal();
    net.tick(30);
    expect(net.leader()).toBe("n1");
    expect(net.raw("n1").status().term).toBe(term);
    expect(net.raw("n3").status()).toMatchObject({ term, role: "follower", lead: "n1" });
  });

  it("without PreVote and CheckQuorum the same partition deposes the leader (the contrast)", () => {
    const net = new Network(three, { preVote: false, checkQuorum: false });
    net.elect("n1");
    const term = net.raw("n1").status().term;
    net.isolate("n3");
    net.tick(100);
    expect(net.raw("n3").status().term).toBeGreaterThan(term + 2);
    net.heal();
    net.tick(30);
    expect(net.raw("n1").status().term).toBeGreaterThan(term + 2);
  });

  it("a pre-vote changes neither the voter's term nor its vote", () => {
    const raw = lone("n1", three, [], 1);
    raw.step({ type: "prevote", from: "n2", to: "n1", term: 2, index: 0, logTerm: 0 });
    const answer = drain(raw).messages[0];
    expect(answer).toMatchObject({ type: "prevote-resp", to: "n2", term: 2 });
    expect(answer?.reject).toBeUndefined();
    expect(raw.status()).toMatchObject({ term: 1, vote: null });
  });

  it("a pre-candidate that wins the pre-vote then campaigns for real in the next term", () => {
    const raw = lone("n1", three, [], 1);
    for (let i = 0; i < 10; i++) raw.tick();
    expect(raw.status()).toMatchObject({ role: "pre-candidate", term: 1 });
    expect(drain(raw).messages.map((m) => [m.type, m.term])).toEqual([
      ["prevote", 2],
      ["prevote", 2],
    ]);
    raw.step({ type: "prevote-resp", from: "n2", to: "n1", term: 2 });
    expect(raw.status()).toMatchObject({ role: "candidate", term: 2, vote: "n1" });
  });
});

describe("CheckQuorum", () => {
  it("frees a candidate stuck at a higher term that the leased followers ignore", () => {
    const net = new Network(three, { preVote: false });
    net.elect("n1");
    net.isolate("n3");
    net.propose("n1", "x"); // n3's log falls behind, so it cannot win once back
    net.tick(60);
    const stuck = net.raw("n3").status().term;
    expect(stuck).toBeGreaterThan(net.raw("n1").status().term);
    net.heal();
    net.tick(60);
    const leader = net.leader();
    expect(leader).toBeDefined();
    expect(net.raw(leader!).status().term).toBeGreaterThan(stuck);
    expect(leader).not.toBe("n3");
    expect(net.raw("n3").status()).toMatchObject({ role: "follower", lead: leader });
  });

  it("a leader that lost its quorum steps down", () => {
    const net = new Network(three);
    net.elect("n1");
    net.tick(9);
    expect(net.raw("n1").status().role).toBe("leader");
    net.isolate("n1");
    net.tick(25);
    expect(net.raw("n1").status().role).toBe("follower");
    net.tick(30);
    expect(["n2", "n3"]).toContain(net.leader());
  });

  it("a follower that heard from its leader within an election timeout ignores a campaign (the lease)", () => {
    const raw = lone("n2", three);
    raw.step({ type: "heartbeat", from: "n1", to: "n2", term: 1, commit: 0 });
    drain(raw);
    raw.step({ type: "vote", from: "n3", to: "n2", term: 2, index: 9, logTerm: 9 });
    expect(drain(raw).messages).toEqual([]);
    expect(raw.status()).toMatchObject({ term: 1, lead: "n1" });
    for (let i = 0; i < 9; i++) raw.tick();
    raw.step({ type: "vote", from: "n3", to: "n2", term: 2, index: 9, logTerm: 9 });
    expect(drain(raw).messages).toEqual([]);
  });
});
