import { describe, expect, it } from "vitest";
import { auditId } from "./audit-id.js";

describe("auditId", () => {
  it("is a version 7 UUID whose first 48 bits are the time, so later ids sort later", () => {
    const id = auditId(Date.UTC(2026, 11, 1));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(Date.UTC(2026, 11, 1));
    const ids = [1, 2, 3, 1000, 10 ** 12].map((ms) => auditId(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => auditId(5))).size).toBe(1000);
  });
});
