import { describe, expect, it } from "vitest";
import { snapshotDue, snapshotPhase } from "./snapshot-schedule.js";

const three = { voters: ["n2", "n1", "n3"], learners: [] };

/** The indexes at which a member with `phase` snapshots while applying 1..upTo one at a time. */
function snapshotsUpTo(upTo: number, every: number, phase: number, from = 0): number[] {
  const taken: number[] = [];
  let last = from;
  for (let applied = from + 1; applied <= upTo; applied++) {
    if (snapshotDue(applied, last, every, () => phase)) {
      taken.push(applied);
      last = applied;
    }
  }
  return taken;
}

describe("automatic snapshot schedule", () => {
  it("spaces the members of a cluster evenly by their sorted ids, learners included", () => {
    expect(["n1", "n2", "n3"].map((id) => snapshotPhase(id, three, 90_000))).toEqual([0, 30_000, 60_000]);
    expect(snapshotPhase("n4", { voters: ["n1", "n2", "n3"], learners: ["n4"] }, 100)).toBe(75);
    expect(snapshotPhase("alone", { voters: ["alone"], learners: [] }, 100)).toBe(0);
    // A member not (yet) in the configuration it knows takes the first point.
    expect(snapshotPhase("n9", three, 100)).toBe(0);
  });

  it("takes one snapshot per `every` entries at the member's point, never two members at once", () => {
    expect(snapshotsUpTo(350, 100, 0)).toEqual([100, 200, 300]);
    expect(snapshotsUpTo(350, 100, 33)).toEqual([50, 133, 233, 333]);
    expect(snapshotsUpTo(350, 100, 66)).toEqual([66, 166, 266]);
    const all = [0, 33, 66].flatMap((phase) => snapshotsUpTo(10_000, 100, phase));
    expect(new Set(all).size).toBe(all.length);
  });

  it("waits at least half of `every` after a snapshot installed just before its point, then keeps to its point", () => {
    // Installed at 160 (from a leader whose point is 60): the point 166 is only 6 entries on.
    expect(snapshotsUpTo(500, 100, 66, 160)).toEqual([210, 266, 366, 466]);
    // Restarted with its last snapshot at 266: nothing until the next point.
    expect(snapshotsUpTo(400, 100, 66, 266)).toEqual([366]);
  });
});
