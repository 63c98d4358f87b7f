import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { StateMachine } from "../state/state-machine.js";
import { StateStore } from "../state/state-store.js";
import { SnapshotStore } from "./snapshot-store.js";
import { openDatabase } from "./sqlite.js";
import { StorageWorker } from "./storage-worker.js";

const meta = (id: string) => ({ id, actor: "test", at: "2026-01-01T00:00:00.000Z" });

function node() {
  const dir = mkdtempSync(join(tmpdir(), "snapstore-"));
  const db = openDatabase(join(dir, "state.db"), false);
  const machine = new StateMachine(new StateStore(db));
  return { dir, db, machine, snapshots: new SnapshotStore(dir) };
}

function fill(machine: StateMachine, from: number, project: string, keys: number) {
  machine.applyBatch([
    { index: from, command: { type: "create-project", name: project, meta: meta(`c${from}`) } },
    {
      index: from + 1,
      command: {
        type: "push",
        project,
        baseRevision: 0,
        changes: Array.from({ length: keys }, (_, i) => ({ op: "put" as const, key: `k${i}`, value: { i } })),
        meta: meta(`p${from}`),
      },
    },
    { index: from + 2, command: null, member: { id: "n1", url: "http://127.0.0.1:1" } },
  ]);
}

describe("SnapshotStore.createBeside", () => {
  it("makes on the storage worker the image create() makes, byte for byte", async () => {
    const a = node();
    fill(a.machine, 1, "alpha", 200);
    const worker = new StorageWorker();
    try {
      const beside = await a.snapshots.createBeside(a.db, 3, worker, () => true);
      const bytes = readFileSync(a.snapshots.path(3));
      const same = a.snapshots.create(a.db, 3);
      expect(beside).toEqual(same);
      expect(readFileSync(a.snapshots.path(3)).equals(bytes)).toBe(true);
    } finally {
      await worker.close();
    }
  });

  it("refuses an image of another index than asked, and leaves nothing behind", async () => {
    const a = node();
    fill(a.machine, 1, "alpha", 5);
    const worker = new StorageWorker();
    try {
      await expect(a.snapshots.createBeside(a.db, 7, worker, () => true)).rejects.toThrow(
        /holds applied index 3, not 7/,
      );
      expect(readdirSync(a.snapshots.dir)).toEqual([]);
      await expect(a.snapshots.createBeside(a.db, 3, worker, () => false)).resolves.toBeNull();
      expect(readdirSync(a.snapshots.dir)).toEqual([]);
    } finally {
      await worker.close();
    }
  });
});

describe("SnapshotStore", () => {
  it("an image installed on another node replaces its whole state, applied index included", async () => {
    const a = node();
    fill(a.machine, 1, "alpha", 50);
    const ref = a.snapshots.create(a.db, a.machine.appliedIndex);
    expect(ref.index).toBe(3);
    expect(existsSync(a.snapshots.path(3))).toBe(true);

    const b = node();
    fill(b.machine, 1, "beta", 3);
    await b.snapshots.receive(a.snapshots.open(ref), ref);
    b.snapshots.install(b.db, ref);
    expect(b.machine.appliedIndex).toBe(3);
    expect(b.machine.store.projects().map((p) => p.name)).toEqual(["alpha"]);
    expect(b.machine.store.keyCount("alpha")).toBe(50);
    expect(b.machine.store.members()).toEqual([{ id: "n1", url: "http://127.0.0.1:1", promote: false }]);
    // The installed state goes on applying from the snapshot's index.
    b.machine.applyBatch([{ index: 4, command: { type: "create-project", name: "gamma", meta: meta("g") } }]);
    expect(b.machine.store.projects().map((p) => p.name)).toEqual(["alpha", "gamma"]);
  });

  it("a corrupt, short or long stream is refused and leaves no file behind", async () => {
    const a = node();
    fill(a.machine, 1, "alpha", 5);
    const ref = a.snapshots.create(a.db, 3);
    const bytes = readFileSync(a.snapshots.path(3));
    const b = node();
    const corrupt = Buffer.from(bytes);
    corrupt[100] = corrupt[100]! ^ 0xff;
    await expect(b.snapshots.receive(Readable.from([corrupt]), ref)).rejects.toThrow(/checksum/);
    await expect(b.snapshots.receive(Readable.from([bytes.subarray(0, 1000)]), ref)).rejects.toThrow(
      /ended at/,
    );
    await expect(b.snapshots.receive(Readable.from([bytes, Buffer.from("x")]), ref)).rejects.toThrow(
      /longer/,
    );
    expect(readdirSync(b.snapshots.dir)).toEqual([]);
    // In chunks, as over HTTP, it is accepted.
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 777) chunks.push(bytes.subarray(i, i + 777));
    await b.snapshots.receive(Readable.from(chunks), ref);
    expect(readdirSync(b.snapshots.dir)).toEqual(["snap-000000000003.db"]);
  });

  it("prune keeps only the current snapshot", () => {
    const a = node();
    fill(a.machine, 1, "alpha", 2);
    a.snapshots.create(a.db, 3);
    a.machine.applyBatch([{ index: 4, command: null }]);
    a.snapshots.create(a.db, 4);
    a.snapshots.prune(4, true);
    expect(readdirSync(a.snapshots.dir)).toEqual(["snap-000000000004.db"]);
  });

  it("pruneBehind keeps the latest snapshot's image and any newer one (received or being made)", () => {
    const a = node();
    fill(a.machine, 1, "alpha", 2);
    for (const index of [3, 4, 5]) {
      if (index > 3) a.machine.applyBatch([{ index, command: null }]);
      a.snapshots.create(a.db, index);
    }
    a.snapshots.pruneBehind(4);
    expect(readdirSync(a.snapshots.dir).sort()).toEqual(["snap-000000000004.db", "snap-000000000005.db"]);
    // Behind a compaction point (no image of its own) at 6, none is of use.
    a.snapshots.pruneBehind(6);
    expect(readdirSync(a.snapshots.dir)).toEqual([]);
  });
});
