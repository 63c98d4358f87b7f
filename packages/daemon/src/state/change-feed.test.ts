import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ChangeFeed } from "./change-feed.js";

describe("ChangeFeed", () => {
  it("moves its generation at once and tells listeners on the next turn, once for a burst", async () => {
    const feed = new ChangeFeed();
    const heard: (string[] | null)[] = [];
    feed.subscribe((projects) => heard.push(projects === null ? null : [...projects].sort()));
    feed.publish(new Set(["shop"]));
    feed.publish(new Set(["billing", "shop"]));
    feed.publish(new Set()); // a batch that touched no project
    expect(feed.generation).toBe(3);
    expect(heard).toEqual([]); // what the batch resolved is answered first
    await nextTurn();
    expect(heard).toEqual([["billing", "shop"]]);
    await nextTurn();
    expect(heard).toHaveLength(1);
  });

  it("a publish of everything (an installed snapshot) covers the projects published with it", async () => {
    const feed = new ChangeFeed();
    const heard: (ReadonlySet<string> | null)[] = [];
    feed.subscribe((projects) => heard.push(projects));
    feed.publish(new Set(["shop"]));
    feed.publish(null);
    feed.publish(new Set(["billing"]));
    await nextTurn();
    expect(heard).toEqual([null]);
  });

  it("says nothing for batches that touched no project, and nothing to a listener that left", async () => {
    const feed = new ChangeFeed();
    let calls = 0;
    const leave = feed.subscribe(() => calls++);
    feed.publish(new Set());
    await nextTurn();
    expect(calls).toBe(0);
    feed.publish(new Set(["shop"]));
    leave();
    await nextTurn();
    expect(calls).toBe(0);
    expect(feed.size).toBe(0);
  });
});
