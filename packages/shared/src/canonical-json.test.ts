import { describe, expect, it } from "vitest";
import { canonicalJson, contentHash } from "./canonical-json.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops insignificant space", () => {
    expect(canonicalJson(JSON.parse('{ "b": 1, "a": { "d": [1, 2], "c": null } }'))).toBe(
      '{"a":{"c":null,"d":[1,2]},"b":1}',
    );
  });
  it("gives formatting-independent hashes", () => {
    expect(contentHash(JSON.parse('{"x":1,"y":2}'))).toBe(contentHash(JSON.parse('{\n "y": 2,\n "x": 1\n}')));
    expect(contentHash({ x: 1 })).not.toBe(contentHash({ x: 2 }));
  });
  it("refuses values that are not JSON", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(/not a JSON number/);
    expect(() => canonicalJson(() => 1)).toThrow(/not a JSON value/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });
});
