import { describe, expect, it } from "vitest";
import { Progress } from "./progress.js";

describe("progress of one follower", () => {
  it("in probe state, a rejection moves next back to the hint, never below match + 1", () => {
    const pr = new Progress(11, 4, false);
    expect(pr.maybeDecrTo(9, 3)).toBe(false); // not the append we sent: stale
    expect(pr.maybeDecrTo(10, 3)).toBe(true);
    expect(pr.next).toBe(4);
    pr.match = 5;
    pr.next = 8;
    expect(pr.maybeDecrTo(7, 1)).toBe(true);
    expect(pr.next).toBe(6);
  });

  it("in replicate state, fills the window and frees it as acknowledgements arrive", () => {
    const pr = new Progress(1, 2, false);
    pr.becomeReplicate();
    pr.inflights.add(3);
    expect(pr.isPaused()).toBe(false);
    pr.inflights.add(6);
    expect(pr.isPaused()).toBe(true);
    expect(pr.maybeUpdate(4)).toBe(true);
    pr.inflights.freeLE(4);
    expect(pr.inflights.count()).toBe(1);
    expect(pr.maybeUpdate(2)).toBe(false);
  });

  it("leaves snapshot state probing after the snapshot's index", () => {
    const pr = new Progress(3, 2, false);
    pr.becomeSnapshot(20);
    expect(pr.isPaused()).toBe(true);
    pr.becomeProbe();
    expect(pr).toMatchObject({ state: "probe", next: 21 });
  });
});
