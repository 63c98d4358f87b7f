import { describe, expect, it } from "vitest";
import { locate, locatePointer, parseJsonFile } from "./json-file.js";

describe("parseJsonFile", () => {
  it("parses valid JSON", () => {
    expect(parseJsonFile('{"a": [1, 2]}', "a.json")).toEqual({ ok: true, value: { a: [1, 2] } });
  });
  it("locates a missing comma at its line and column", () => {
    const text = '{\n  "port": 8080\n  "host": "x"\n}\n';
    const result = parseJsonFile(text, "svc.json");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ file: "svc.json", line: 3, column: 3 });
    expect(result.problems[0]?.message).toMatch(/expected ','/);
  });
  it("refuses comments and trailing commas", () => {
    const comment = parseJsonFile('{\n  // note\n  "a": 1\n}', "c.json");
    expect(comment.ok).toBe(false);
    if (!comment.ok) expect(comment.problems[0]).toMatchObject({ line: 2, column: 3 });
    const trailing = parseJsonFile('{"a": 1,}', "t.json");
    expect(trailing.ok).toBe(false);
  });
});

describe("locatePointer", () => {
  const text = '{\n  "name": "api",\n  "ports": [\n    80,\n    "443"\n  ],\n  "env": {}\n}\n';
  it("finds members and array items", () => {
    expect(locatePointer(text, "/name")).toEqual({ line: 2, column: 3 });
    expect(locatePointer(text, "/ports/1")).toEqual({ line: 5, column: 5 });
  });
  it("falls back to the closest existing parent for a missing member", () => {
    expect(locatePointer(text, "/env/LOG_LEVEL")).toEqual({ line: 7, column: 3 });
    expect(locatePointer(text, "/image")).toEqual({ line: 1, column: 1 });
  });
  it("counts lines from offsets", () => {
    expect(locate("a\nbc\nd", 4)).toEqual({ line: 2, column: 3 });
  });
});
