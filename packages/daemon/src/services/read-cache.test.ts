import { describe, expect, it } from "vitest";
import { ReadCache } from "./read-cache.js";

describe("ReadCache", () => {
  it("answers only for the applied index it was filled at", () => {
    let index = 7;
    const cache = new ReadCache<string>(() => index);
    cache.set("shop/a", "v1", 2);
    expect(cache.get("shop/a")).toBe("v1");
    index = 8; // a batch was applied: whatever it changed, nothing older is served
    expect(cache.get("shop/a")).toBeUndefined();
    cache.set("shop/a", "v2", 2);
    expect(cache.get("shop/a")).toBe("v2");
  });

  it("stays within its bounds of items and bytes, and keeps nothing larger than all of them", () => {
    const cache = new ReadCache<string>(() => 1, 2, 10);
    cache.set("a", "1", 4);
    cache.set("b", "2", 4);
    cache.set("c", "3", 4); // a third item: starts over
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, undefined, "3"]);
    cache.set("d", "4", 7); // 4 + 7 bytes > 10: starts over
    expect([cache.get("c"), cache.get("d")]).toEqual([undefined, "4"]);
    cache.set("huge", "x", 11);
    expect(cache.get("huge")).toBeUndefined();
    expect(cache.get("d")).toBe("4");
  });
});
