import { describe, expect, it } from "vitest";
import { keyFromRelativePath, keyProblem, projectNameProblem } from "./names.js";

describe("names", () => {
  it.each(["services/api", "a", "db.primary/v1_x", "0-a/b-c"])("accepts key %s", (key) => {
    expect(keyProblem(key)).toBeNull();
  });
  it.each([
    "",
    "/abs",
    "trailing/",
    "Upper",
    "a//b",
    "a/../b",
    ".hidden",
    "spaces here",
    "a/-b",
    "x".repeat(257),
    "'; DROP TABLE configs; --",
  ])("refuses key %j with a reason", (key) => {
    expect(keyProblem(key)).toMatch(/key/);
  });
  it("checks project names", () => {
    expect(projectNameProblem("shop-prod")).toBeNull();
    expect(projectNameProblem("Shop")).toMatch(/invalid project name/);
    expect(projectNameProblem("-x")).toMatch(/invalid project name/);
    expect(projectNameProblem("a".repeat(64))).toMatch(/invalid project name/);
  });
  it("derives keys from repository paths", () => {
    expect(keyFromRelativePath("services/api.json")).toBe("services/api");
    expect(keyFromRelativePath("services\\api.json")).toBe("services/api");
    expect(keyFromRelativePath("README.md")).toBeNull();
  });
});
