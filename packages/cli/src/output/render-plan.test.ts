import { jsonDiff } from "@cfguardian/shared";
import { describe, expect, it } from "vitest";
import type { Plan } from "../plan/plan.js";
import { makePalette } from "./palette.js";
import { githubAnnotation } from "./problems.js";
import { renderPlan, renderSummary } from "./render-plan.js";

const plan: Plan = {
  project: "shop-staging",
  server: "http://127.0.0.1:7070",
  baseRevision: 4,
  changes: [
    { op: "add", key: "features/new", fromVersion: 0, after: { on: true }, diff: [] },
    {
      op: "change",
      key: "services/api",
      fromVersion: 3,
      before: { port: 8080 },
      after: { port: 8081 },
      diff: jsonDiff({ port: 8080 }, { port: 8081 }),
    },
    { op: "delete", key: "old", fromVersion: 2, before: {}, diff: [] },
  ],
  schemaChanges: [{ op: "change", name: "service", match: "services/**" }],
  kept: [],
  summary: { add: 1, change: 1, delete: 1 },
};

describe("renderPlan", () => {
  it("renders a plain plan without colour codes", () => {
    const text = renderPlan(plan, makePalette(false), "Target staging");
    expect(text).toContain("+ features/new  (new key)");
    expect(text).toContain("~ services/api  (version 3)");
    expect(text).toContain("    ~ /port: 8080 -> 8081");
    expect(text).toContain("- old  (version 2, deleted with --prune)");
    expect(text).toContain("~ schema service  (match services/**)");
    expect(text).not.toMatch(/\u001b\[/);
    expect(renderSummary(plan)).toBe("Plan: 1 to add, 1 to change, 1 to delete, 1 schema change.");
  });
  it("colours only when asked", () => {
    expect(renderPlan(plan, makePalette(true), "Target staging")).toMatch(/\u001b\[32m/);
  });
});

describe("githubAnnotation", () => {
  it("escapes properties and messages", () => {
    expect(githubAnnotation({ file: "a,b.json", line: 3, column: 4, message: "bad: 100%\nnext" })).toBe(
      "::error file=a%2Cb.json,line=3,col=4::bad: 100%25%0Anext",
    );
  });
});
