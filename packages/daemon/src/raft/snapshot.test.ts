/** Snapshots (sending, receiving, restoring) and restarts from storage. */
import { describe, expect, it } from "vitest";
import { drain, entry as e, leadLone, lone, Network } from "./network.test-helpers.js";
import { RawNode } from "./raw-node.js";
import { MemoryStorage } from "./storage.js";
import type { Snapshot } from "./types.js";

const three = ["n1", "n2", "n3"];
const snap = (index: number, term: number, data = "[]"): Snapshot => ({
  meta: { index, term, confState: { voters: three, learners: [] } },
  data,
});

describe("snapshots", () => {
  it("the leader sends its snapshot to a follower whose next entry was compacted, then replicates again", () => {
    const net = new Network(three);
    net.elect("n1");
    net.crash("n3");
    for (let i = 0; i < 20; i++) net.propose("n1", `c${i}`);
    net.compact("n1");
    expect(net.node("n1").disk.storage.firstIndex()).toBe(22);
    net.restart("n3");
    net.tick(3);
    const snapshots = net.delivered.filter((m) => m.type === "snapshot" && m.to === "n3");
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.snapshot!.meta).toMatchObject({ index: 21, term: 1 });
    expect(net.node("n3").disk.commands).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    expect(net.raw("n1").status().progress?.n3).toMatchObject({ state: "replicate", match: 21 });
    expect(net.propose("n1", "after")).toBe(true);
    expect(net.node("n3").disk.commands.at(-1)).toBe("after");
  });

  it("a follower receiving a newer snapshot hands it out in Ready.snapshot and resets its log", () => {
    const raw = lone("n2", three, [e(1, 1), e(2, 1), e(3, 1)], 1);
    raw.step({ type: "snapshot", from: "n1", to: "n2", term: 2, snapshot: snap(10, 2, '["s"]') });
    const ready = drain(raw);
    expect(ready.snapshot?.meta.index).toBe(10);
    expect(ready.committedEntries).toEqual([]);
    expect(ready.messages).toEqual([{ type: "append-resp", from: "n2", to: "n1", term: 2, index: 10 }]);
    expect(raw.inspect()).toMatchObject({ firstIndex: 11, lastIndex: 10, commit: 10, applied: 10 });
    expect(raw.entryAt(3)).toBeUndefined();
  });

  it("a follower ignores a snapshot that its commit index already covers", () => {
    const raw = lone("n2", three);
    raw.step({
      type: "append",
      from: "n1",
      to: "n2",
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [e(1, 1), e(2, 1)],
      commit: 2,
    });
    drain(raw);
    raw.step({ type: "snapshot", from: "n1", to: "n2", term: 1, snapshot: snap(1, 1) });
    const ready = drain(raw);
    expect(ready.snapshot).toBeUndefined();
    expect(ready.messages[0]).toMatchObject({ type: "append-resp", index: 2 });
    expect(raw.inspect().lastIndex).toBe(2);
  });

  it("a failed snapshot sends the follower back to probing, and so does a lost one after a while", () => {
    const storage = MemoryStorage.bootstrap(three);
    storage.append([1, 2, 3, 4, 5].map((i) => e(i, 1)));
    storage.setHardState({ term: 1, vote: null, commit: 5 });
    storage.createSnapshot(5, { voters: three, learners: [] }, "[]");
    storage.compact(5);
    const raw = new RawNode({
      id: "n1",
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      random: () => 0,
      applied: 5,
    });
    leadLone(raw, ["n2"]);
    raw.step({ type: "append-resp", from: "n3", to: "n1", term: 2, index: 5, reject: true, rejectHint: 0 });
    const sent = drain(raw).messages.filter((m) => m.to === "n3");
    expect(sent.map((m) => [m.type, m.snapshot?.meta.index])).toEqual([["snapshot", 5]]);
    expect(raw.status().progress?.n3?.state).toBe("snapshot");
    raw.reportSnapshot("n3", false);
    expect(raw.status().progress?.n3?.state).toBe("probe");
    raw.step({ type: "heartbeat-resp", from: "n3", to: "n1", term: 2 });
    expect(
      drain(raw)
        .messages.filter((m) => m.to === "n3")
        .map((m) => m.type),
    ).toEqual(["snapshot"]);
    for (let i = 0; i < 21; i++) {
      raw.tick();
      raw.step({ type: "heartbeat-resp", from: "n2", to: "n1", term: 2 });
    }
    expect(raw.status().progress?.n3?.state).toBe("probe");
  });

  it("the driver restores a snapshot of its own (e.g. a backup)", () => {
    const raw = lone("n1", three, [e(1, 1)], 1);
    expect(raw.restore(snap(7, 3, '["backup"]'))).toBe(true);
    const ready = drain(raw);
    expect(ready.snapshot?.data).toBe('["backup"]');
    expect(raw.inspect()).toMatchObject({ firstIndex: 8, lastIndex: 7, commit: 7 });
  });
});

describe("restarts", () => {
  it("a node restarted from storage with its applied index applies nothing twice and keeps its vote", () => {
    const net = new Network(three);
    net.elect("n2");
    for (let i = 0; i < 3; i++) net.propose("n2", `c${i}`);
    const before = net.raw("n1").status();
    net.crash("n1");
    net.restart("n1");
    const raw = net.raw("n1");
    expect(raw.status()).toMatchObject({ term: before.term, vote: before.vote, commit: before.commit });
    expect(raw.inspect().applied).toBe(net.node("n1").disk.applied);
    expect(raw.hasReady() ? raw.ready().committedEntries : []).toEqual([]);
  });

  it("a restarted node hands out the committed entries it had not applied", () => {
    const storage = MemoryStorage.bootstrap(three);
    storage.append([e(1, 1), e(2, 1), e(3, 1)]);
    storage.setHardState({ term: 1, vote: "n1", commit: 3 });
    const raw = new RawNode({
      id: "n1",
      storage,
      electionTick: 10,
      heartbeatTick: 1,
      random: () => 0,
      applied: 1,
    });
    expect(raw.ready().committedEntries.map((x) => x.index)).toEqual([2, 3]);
    raw.advance();
    expect(raw.inspect().applied).toBe(3);
    expect(raw.hasReady()).toBe(false);
  });
});
