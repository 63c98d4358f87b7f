/** Each test-only bug switch does exactly what its comment says, and nothing when off. */
import { describe, expect, it } from "vitest";
import { drain, entry as e, leadLone, lone } from "./network.test-helpers.js";
import type { BugSwitches } from "./types.js";

const three = ["n1", "n2", "n3"];

describe.each([false, true])("bug switches (on: %s)", (on) => {
  const bugs = (name: keyof BugSwitches): BugSwitches => (on ? { [name]: true } : {});

  it("commitPrevTermByCounting: an earlier-term entry commits once a majority holds it", () => {
    const raw = lone("n1", three, [e(1, 1), e(2, 2)], 2, { bugs: bugs("commitPrevTermByCounting") });
    raw.raft.log.commitTo(1);
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 3, index: 2 });
    expect(raw.inspect().commit).toBe(on ? 2 : 1);
  });

  it("forgetVote: Ready.hardState carries vote null", () => {
    const raw = lone("n1", three, [], 0, { bugs: bugs("forgetVote") });
    raw.step({ type: "vote", from: "n2", to: "n1", term: 1, index: 0, logTerm: 0 });
    expect(raw.status().vote).toBe("n2");
    expect(drain(raw).hardState).toEqual({ term: 1, vote: on ? null : "n2", commit: 0 });
  });

  it("skipPrevLogCheck: a follower accepts an append whose previous entry does not match", () => {
    const raw = lone("n2", three, [e(1, 1), e(2, 1)], 1, { bugs: bugs("skipPrevLogCheck") });
    raw.step({ type: "append", from: "n1", to: "n2", term: 2, index: 2, logTerm: 2, entries: [e(3, 2)] });
    const answer = drain(raw).messages[0]!;
    expect(answer.reject === true).toBe(!on);
    expect(raw.inspect().lastIndex).toBe(on ? 3 : 2);
  });

  it("staleLeaderReads: the leader answers a read at once, without a quorum round", () => {
    const raw = lone("n1", three, [], 0, { bugs: bugs("staleLeaderReads") });
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n2", to: "n1", term: 1, index: 1 });
    drain(raw);
    raw.readIndex("r");
    const ready = drain(raw);
    expect(ready.readStates).toEqual(on ? [{ index: 1, requestId: "r" }] : []);
    expect(ready.messages.filter((m) => m.type === "heartbeat")).toHaveLength(on ? 0 : 2);
  });
});
