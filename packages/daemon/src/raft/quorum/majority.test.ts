import { describe, expect, it } from "vitest";
import { committedIndex, hasQuorum, voteResult } from "./majority.js";

describe("majority quorum", () => {
  it("the committed index is the highest index a majority of voters has", () => {
    const match: Record<string, number> = { a: 5, b: 3, c: 9, d: 1, e: 3 };
    expect(committedIndex(["a", "b", "c"], (id) => match[id]!)).toBe(5);
    expect(committedIndex(["a", "b", "c", "d"], (id) => match[id]!)).toBe(3);
    expect(committedIndex(["a", "b", "c", "d", "e"], (id) => match[id]!)).toBe(3);
    expect(committedIndex(["c"], (id) => match[id]!)).toBe(9);
  });

  it("an election is won by a majority of grants and lost once a majority is out of reach", () => {
    const voters = ["a", "b", "c", "d"];
    expect(voteResult(voters, new Map([["a", true]]))).toBe("pending");
    expect(
      voteResult(
        voters,
        new Map([
          ["a", true],
          ["b", true],
        ]),
      ),
    ).toBe("pending");
    expect(
      voteResult(
        voters,
        new Map([
          ["a", true],
          ["b", true],
          ["c", true],
        ]),
      ),
    ).toBe("won");
    expect(
      voteResult(
        voters,
        new Map([
          ["a", true],
          ["b", false],
          ["c", false],
        ]),
      ),
    ).toBe("lost");
    expect(
      voteResult(
        voters,
        new Map([
          ["x", true],
          ["y", true],
          ["z", true],
        ]),
      ),
    ).toBe("pending");
  });

  it("a quorum needs more than half of the voters", () => {
    expect(hasQuorum(["a", "b", "c"], (id) => id !== "c")).toBe(true);
    expect(hasQuorum(["a", "b", "c", "d"], (id) => id < "c")).toBe(false);
  });
});
