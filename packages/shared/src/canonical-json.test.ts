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

describe("canonicalJson, the cases the fast path hands over", () => {
  const cases: [string, unknown, string][] = [
    ["integer keys, sorted as text", { b: 1, "10": 2, "2": 3 }, '{"10":2,"2":3,"b":1}'],
    ["a __proto__ key", JSON.parse('{"z":1,"__proto__":{"a":1}}'), '{"__proto__":{"a":1},"z":1}'],
    ["undefined members dropped", { b: undefined, a: [1, { d: 1, c: undefined }] }, '{"a":[1,{"d":1}]}'],
    ["an object without prototype", Object.assign(Object.create(null), { b: 2, a: 1 }), '{"a":1,"b":2}'],
    ["unicode keys by code unit", { é: 1, z: 2, "\u{1F600}": 3, Z: 4 }, '{"Z":4,"z":2,"é":1,"😀":3}'],
    ["strings escaped as JSON.stringify does", { s: 'a"b\\c\n\u0001' }, '{"s":"a\\"b\\\\c\\n\\u0001"}'],
    ["numbers as JSON.stringify writes them", [-0, 1e21, 0.1, -1.5e-7], "[0,1e+21,0.1,-1.5e-7]"],
    ["scalars", "x", '"x"'],
  ];
  it.each(cases)("%s", (_name, value, text) => {
    expect(canonicalJson(value)).toBe(text);
  });
  it("deep nesting goes the long way and comes out the same", () => {
    let deep: unknown = { b: 1, a: 2 };
    for (let i = 0; i < 600; i++) deep = { k: [deep] };
    expect(canonicalJson(deep)).toBe(`${'{"k":['.repeat(600)}{"a":2,"b":1}${"]}".repeat(600)}`);
  });
  it("refuses undefined in an array and a non-finite number inside an object", () => {
    expect(() => canonicalJson([1, undefined])).toThrow(/not a JSON value/);
    expect(() => canonicalJson({ a: { b: Number.POSITIVE_INFINITY } })).toThrow(/not a JSON number/);
  });
});
