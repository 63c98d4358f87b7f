import { describe, expect, it } from "vitest";
import { checkHistory } from "./checker.js";
import type { HistoryEntry, Operation } from "./history.js";

const INF = Number.POSITIVE_INFINITY;
let ids = 0;
function op(
  client: string,
  o: Operation,
  invoke: number,
  complete: number,
  result?: string | null | boolean,
): HistoryEntry {
  return { id: ids++, client, op: o, invoke, complete, ...(result === undefined ? {} : { result }) };
}
const put = (key: string, value: string) => ({ kind: "put", key, value }) as const;
const get = (key: string) => ({ kind: "get", key }) as const;
const cas = (key: string, expected: string | null, value: string) =>
  ({ kind: "cas", key, expected, value }) as const;

describe("linearizability checker", () => {
  it("accepts sequential and properly concurrent histories", () => {
    expect(checkHistory([op("a", put("x", "1"), 1, 2, true), op("b", get("x"), 3, 4, "1")]).ok).toBe(true);
    // A read concurrent with a write may see either value.
    expect(
      checkHistory([
        op("a", put("x", "1"), 1, 10, true),
        op("b", get("x"), 2, 3, null),
        op("c", get("x"), 4, 5, "1"),
      ]).ok,
    ).toBe(true);
    expect(checkHistory([]).ok).toBe(true);
  });

  it("refuses a stale read: write foo, write bar, then read foo", () => {
    const verdict = checkHistory([
      op("a", put("x", "foo"), 1, 2, true),
      op("a", put("x", "bar"), 3, 4, true),
      op("b", get("x"), 5, 6, "foo"),
    ]);
    expect(verdict.ok).toBe(false);
    expect(verdict.key).toBe("x");
    expect(verdict.explanation).toMatch(/get\(x\) = "foo"/);
  });

  it("refuses a compare-and-set that succeeded twice from the same state", () => {
    const verdict = checkHistory([
      op("a", put("x", "0"), 1, 2, true),
      op("b", cas("x", "0", "1"), 3, 5, true),
      op("c", cas("x", "0", "2"), 3, 5, true),
    ]);
    expect(verdict.ok).toBe(false);
  });

  it("lets a write with an unknown outcome take effect, late", () => {
    const history = [
      op("a", put("x", "1"), 1, INF),
      op("b", get("x"), 2, 3, null),
      op("b", get("x"), 10, 11, "1"),
    ];
    expect(checkHistory(history).ok).toBe(true);
  });

  it("lets a write with an unknown outcome never take effect", () => {
    const history = [op("a", put("x", "1"), 1, INF), op("b", get("x"), 20, 21, null)];
    expect(checkHistory(history).ok).toBe(true);
  });

  it("still refuses what no placement of the unknown write can explain", () => {
    // The value read was never written by anyone.
    expect(checkHistory([op("a", put("x", "1"), 1, INF), op("b", get("x"), 2, 3, "2")]).ok).toBe(false);
    // A read cannot see the unknown write and then not see it, with nothing else writing.
    const flicker = [
      op("a", put("x", "1"), 1, INF),
      op("b", get("x"), 2, 3, "1"),
      op("b", get("x"), 4, 5, null),
    ];
    expect(checkHistory(flicker).ok).toBe(false);
  });

  it("checks each key on its own", () => {
    const history = [
      op("a", put("x", "1"), 1, 2, true),
      op("a", put("y", "1"), 3, 4, true),
      op("b", get("y"), 5, 6, "1"),
      op("b", get("x"), 7, 8, null),
    ];
    const verdict = checkHistory(history);
    expect(verdict.ok).toBe(false);
    expect(verdict.key).toBe("x");
  });
});
