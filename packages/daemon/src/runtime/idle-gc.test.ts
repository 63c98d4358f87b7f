import { describe, expect, it } from "vitest";
import { fullGc, IdleGcPolicy, startIdleGc } from "./idle-gc.js";

const MB = 1024 * 1024;

describe("IdleGcPolicy", () => {
  it("collects only when memory grew past the mark while the loop was quiet", () => {
    const policy = new IdleGcPolicy(80 * MB, { growthBytes: 32 * MB, quietUtilization: 0.05 });
    expect(policy.due(100 * MB, 0.01)).toBe(false); // quiet, but grown only 20 MB
    expect(policy.due(200 * MB, 0.6)).toBe(false); // grown, but busy: never pause a busy node
    expect(policy.due(200 * MB, 0.01)).toBe(true);
  });

  it("takes what a collection leaves as the new mark, so live data does not collect again", () => {
    const policy = new IdleGcPolicy(80 * MB, { growthBytes: 32 * MB });
    policy.collected(170 * MB); // 100,000 keys' worth of live data
    expect(policy.due(180 * MB, 0)).toBe(false);
    expect(policy.due(203 * MB, 0)).toBe(true);
  });

  it("follows memory down, so growth is counted from the lowest point", () => {
    const policy = new IdleGcPolicy(150 * MB, { growthBytes: 32 * MB });
    expect(policy.due(120 * MB, 0)).toBe(false);
    expect(policy.due(160 * MB, 0)).toBe(true);
  });
});

describe("fullGc", () => {
  it("is a real full collection: an object only a WeakRef holds is gone after it", async () => {
    const gc = fullGc();
    expect(gc).toBeTypeOf("function");
    const ref = new WeakRef({ payload: "x".repeat(1000) });
    // A WeakRef's target is kept until the end of the current job.
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    expect(ref.deref()).toBeUndefined();
  });
});

describe("startIdleGc", () => {
  it("collects once the process has grown and gone quiet, and reports what it freed", async () => {
    const events: { rssBefore: number; rssAfter: number; ms: number }[] = [];
    const stop = startIdleGc((e) => events.push(e), {
      intervalMs: 50,
      growthBytes: 0,
      quietUtilization: 0.5,
    });
    try {
      // Grown after the start: 16 MB written (so resident), then dropped.
      let garbage: Buffer[] | null = Array.from({ length: 16 }, () => Buffer.alloc(MB, 1));
      expect(garbage.length).toBe(16);
      garbage = null;
      for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(garbage).toBeNull();
      expect(events.length).toBeGreaterThan(0);
      expect(events[0]!.ms).toBeGreaterThanOrEqual(0);
      expect(events[0]!.rssAfter).toBeGreaterThan(0);
    } finally {
      stop();
    }
  });
});
