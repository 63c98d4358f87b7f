import { describe, expect, it } from "vitest";
import { nextTurn } from "./next-turn.js";

describe("nextTurn", () => {
  it("is one promise for every caller in a turn, resolved in the check phase after immediates set before it", async () => {
    const order: string[] = [];
    setImmediate(() => order.push("earlier immediate"));
    const a = nextTurn();
    const b = nextTurn();
    expect(a).toBe(b);
    void a.then(() => order.push("turn"));
    await Promise.resolve();
    expect(order).toEqual([]); // not a microtask: the poll phase's other work comes first
    await a;
    expect(order).toEqual(["earlier immediate", "turn"]);
    const c = nextTurn();
    expect(c).not.toBe(a); // the next turn's
    await c;
  });
});
