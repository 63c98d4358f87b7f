import { describe, expect, it } from "vitest";
import { jsonDiff, toPointer } from "./json-diff.js";

describe("jsonDiff", () => {
  it("reports member-level changes with JSON pointers", () => {
    const before = { port: 8080, env: { LOG: "info", OLD: "x" }, hosts: ["a", "b"] };
    const after = { port: 8081, env: { LOG: "info", NEW: "y" }, hosts: ["a", "c", "d"] };
    expect(jsonDiff(before, after)).toEqual([
      { op: "replace", path: "/port", before: 8080, after: 8081 },
      { op: "remove", path: "/env/OLD", before: "x" },
      { op: "add", path: "/env/NEW", after: "y" },
      { op: "replace", path: "/hosts/1", before: "b", after: "c" },
      { op: "add", path: "/hosts/2", after: "d" },
    ]);
  });
  it("is empty for equal documents and replaces the root on a change of type", () => {
    expect(jsonDiff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
    expect(jsonDiff({ a: 1 }, [1])).toEqual([{ op: "replace", path: "", before: { a: 1 }, after: [1] }]);
    expect(jsonDiff(1, 1)).toEqual([]);
    expect(jsonDiff("x", null)).toEqual([{ op: "replace", path: "", before: "x", after: null }]);
  });
  it("escapes pointer segments", () => {
    expect(toPointer(["a/b", "c~d", 0])).toBe("/a~1b/c~0d/0");
    expect(jsonDiff({ "a/b": 1 }, { "a/b": 2 })[0]?.path).toBe("/a~1b");
  });
});
