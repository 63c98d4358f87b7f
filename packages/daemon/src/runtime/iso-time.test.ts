import { describe, expect, it } from "vitest";
import { isoTime } from "./iso-time.js";

describe("isoTime", () => {
  it("is toISOString for each millisecond, asked again or in any order", () => {
    const times = [0, 1, 1, 1_765_000_000_000, 1_765_000_000_000, 1_765_000_000_001, 1, -1, 8.64e15];
    for (const ms of times) expect(isoTime(new Date(ms))).toBe(new Date(ms).toISOString());
  });

  it("throws on an invalid date, as toISOString does, also right after a valid one", () => {
    isoTime(new Date(5));
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => isoTime(new Date(Number.NaN))).toThrow(RangeError);
    expect(isoTime(new Date(5))).toBe(new Date(5).toISOString());
  });
});
