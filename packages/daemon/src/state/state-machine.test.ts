import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../storage/sqlite.js";
import type { Command } from "./commands.js";
import { type BatchEntry, StateMachine } from "./state-machine.js";
import { StateStore } from "./state-store.js";

const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) if (db.open) db.close();
});

function open(file: string, commitEveryMs: number) {
  const db = openDatabase(file, false);
  opened.push(db);
  return new StateMachine(new StateStore(db), { commitEveryMs });
}

const meta = (n: number) => ({ id: `c${n}`, actor: "test", at: "2026-01-01T00:00:00.000Z" });
/** Entry `index` puts {n: index} into key a of project shop. */
const putA = (index: number): BatchEntry => ({
  index,
  command: { type: "put-key", project: "shop", key: "a", value: { n: index }, meta: meta(index) } as Command,
});
const entries: BatchEntry[] = [
  { index: 1, command: { type: "create-project", name: "shop", meta: meta(1) } as Command },
  ...[2, 3, 4].map(putA),
];

/** What another connection (another process, after a crash) finds in the file. */
function onDisk(file: string): { applied: number; value: string | undefined } {
  const db = new Database(file, { readonly: true });
  try {
    const applied = Number(
      (db.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get() as string | undefined) ?? 0,
    );
    const value = db
      .prepare("SELECT value FROM configs WHERE project = 'shop' AND key = 'a'")
      .pluck()
      .get() as string | undefined;
    return { applied, value };
  } finally {
    db.close();
  }
}

describe("StateMachine group commit", () => {
  it("shows applied batches on its own connection at once and commits them together later", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db");
    const machine = open(file, 200);
    machine.applyBatch(entries.slice(0, 2));
    machine.applyBatch(entries.slice(2));
    expect(machine.appliedIndex).toBe(4);
    expect(machine.store.config("shop", "a")?.value).toBe('{"n":4}');
    expect(onDisk(file)).toEqual({ applied: 0, value: undefined });
    // The COMMIT comes by itself, within the interval.
    const deadline = Date.now() + 2_000;
    while (onDisk(file).applied === 0 && Date.now() < deadline) await sleep(20);
    expect(onDisk(file)).toEqual({ applied: 4, value: '{"n":4}' });
  });

  it("holds its commits while asked: another connection sees the state of the hold's start until it is released", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db");
    const machine = open(file, 10);
    machine.applyBatch(entries.slice(0, 2));
    const release = machine.holdCommits()!;
    expect(onDisk(file)).toEqual({ applied: 2, value: '{"n":2}' }); // committed as the hold began
    machine.applyBatch(entries.slice(2));
    await sleep(100); // ten commit intervals
    expect(machine.appliedIndex).toBe(4);
    expect(onDisk(file)).toEqual({ applied: 2, value: '{"n":2}' });
    release();
    release(); // once is enough; twice changes nothing
    const deadline = Date.now() + 2_000;
    while (onDisk(file).applied === 2 && Date.now() < deadline) await sleep(10);
    expect(onDisk(file)).toEqual({ applied: 4, value: '{"n":4}' });
    expect(open(join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db"), 0).holdCommits()).toBeNull();
  });

  it("killed before its COMMIT, comes back at the last one, and applying the rest again gives the same state", () => {
    const file = join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db");
    const machine = open(file, 60_000);
    machine.applyBatch(entries.slice(0, 2));
    machine.flush();
    machine.applyBatch(entries.slice(2));
    // Closing with the transaction open rolls it back, as a crash does.
    machine.store.db.close();
    const again = open(file, 60_000);
    expect(again.appliedIndex).toBe(2);
    expect(again.store.config("shop", "a")?.value).toBe('{"n":2}');
    const outcomes = again.applyBatch(entries.filter((e) => e.index > again.appliedIndex));
    expect(outcomes.every((o) => o.ok)).toBe(true);
    again.flush();
    expect(onDisk(file)).toEqual({ applied: 4, value: '{"n":4}' });
    expect(again.store.config("shop", "a")?.version).toBe(3);
  });

  it("a batch that fails halfway rolls the whole group back to its last COMMIT, and nothing of it is committed later", () => {
    const file = join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db");
    const machine = open(file, 60_000);
    machine.applyBatch(entries.slice(0, 2));
    machine.flush();
    machine.applyBatch(entries.slice(2, 3)); // in the open group, not committed yet
    const store = machine.store;
    const writeKey = store.writeKey;
    let writes = 0;
    // The second entry of the next batch fails in the middle of its writes.
    store.writeKey = (...args) => {
      if (++writes === 2) throw new Error("disk on fire");
      return writeKey.apply(store, args);
    };
    const more = [4, 5].map(putA);
    expect(() => machine.applyBatch(more)).toThrow("disk on fire");
    store.writeKey = writeKey;
    expect(store.db.inTransaction).toBe(false);
    expect(machine.appliedIndex).toBe(2);
    expect(store.config("shop", "a")?.value).toBe('{"n":2}');
    machine.flush();
    expect(onDisk(file)).toEqual({ applied: 2, value: '{"n":2}' });
  });

  it("without an interval, every batch is its own transaction", () => {
    const file = join(mkdtempSync(join(tmpdir(), "state-group-")), "state.db");
    const machine = open(file, 0);
    machine.applyBatch(entries.slice(0, 2));
    expect(machine.store.db.inTransaction).toBe(false);
    expect(onDisk(file)).toEqual({ applied: 2, value: '{"n":2}' });
  });
});

describe("StateMachine batches", () => {
  /** Every row of the tables a command writes, in a fixed order. */
  const dump = (machine: StateMachine) =>
    Object.fromEntries(
      ["projects", "configs", "key_versions", "revisions", "schema_sets"].map((table) => [
        table,
        machine.store.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all(),
      ]),
    );
  const schema = { type: "object", properties: { n: { type: "integer", maximum: 100 } } };
  const bodies = [
    { type: "create-project", name: "shop" },
    { type: "put-key", project: "shop", key: "a", value: { n: 1 } },
    { type: "put-key", project: "shop", key: "b", value: { n: 2 } },
    { type: "put-schema", project: "shop", binding: { name: "n", match: "*", schema } },
    { type: "put-key", project: "shop", key: "a", value: { n: 500 } }, // refused by the schema
    { type: "put-key", project: "shop", key: "a", value: { n: 3 } },
    { type: "put-key", project: "shop", key: "a", value: { n: 4 }, ifMatch: 1 }, // refused: version 2
    { type: "push", project: "shop", baseRevision: 1, changes: [{ op: "put", key: "a", value: { n: 5 } }] }, // refused: a changed since
    { type: "push", project: "shop", baseRevision: 4, changes: [{ op: "put", key: "c", value: { n: 5 } }] },
    { type: "delete-schema", project: "shop", name: "n" },
    { type: "put-key", project: "shop", key: "a", value: { n: 500 } },
    { type: "rollback", project: "shop", toRevision: 4 }, // the schema back in force
    { type: "put-key", project: "shop", key: "c", value: { n: 500 } }, // refused by it
    { type: "delete-key", project: "shop", key: "b" },
    { type: "put-key", project: "shop", key: "b", value: { n: 6 } },
    { type: "delete-project", project: "shop" },
    { type: "put-key", project: "shop", key: "a", value: { n: 7 } }, // refused: no such project
    { type: "create-project", name: "shop" },
    { type: "put-key", project: "shop", key: "a", value: { n: 8 } },
    { type: "put-key", project: "shop", key: "a", value: { n: 9 } },
  ];
  const batch = (): BatchEntry[] =>
    bodies.map((body, i) => ({ index: i + 1, command: { ...body, meta: meta(i + 1) } as Command }));
  const outcome = (o: { ok: boolean; code?: string; value?: unknown }) =>
    o.ok ? { ok: true, revision: (o.value as { revision?: number })?.revision } : { ok: false, code: o.code };

  it("apply commands in one batch as they do one batch each (the rows a batch reads once kept up to date)", () => {
    const dir = mkdtempSync(join(tmpdir(), "state-batches-"));
    const alone = open(join(dir, "alone.db"), 0);
    const together = open(join(dir, "together.db"), 0);
    const one = batch().map((entry) => outcome(alone.applyBatch([entry])[0]!));
    const all = together.applyBatch(batch()).map(outcome);
    expect(all).toEqual(one);
    expect(one.filter((o) => !o.ok).map((o) => o.code)).toEqual([
      "validation_failed",
      "precondition_failed",
      "conflict",
      "validation_failed",
      "not_found",
    ]);
    expect(dump(together)).toEqual(dump(alone));
    expect(together.store.project("shop")?.revision).toBe(2);
  });
});

describe("StateMachine audit records", () => {
  const draft = (n: number) => ({
    id: `0190a0a0-0000-7000-8000-${String(n).padStart(12, "0")}`,
    at: "2026-01-01T00:00:00.000Z",
    actor: "user:ada",
    action: "config.put",
    project: "shop",
    target: "a",
    address: "127.0.0.1",
  });
  const audited = (index: number, body: object, n: number): BatchEntry => ({
    index,
    command: { ...body, meta: { ...meta(index), audit: draft(n) } } as Command,
  });

  it("write the record a command carries with its result, and once only when its entry is applied again", () => {
    const machine = open(join(mkdtempSync(join(tmpdir(), "state-audit-")), "state.db"), 0);
    machine.applyBatch([
      { index: 1, command: { type: "create-project", name: "shop", meta: meta(1) } as Command },
      audited(2, { type: "put-key", project: "shop", key: "a", value: { n: 1 } }, 1),
      audited(3, { type: "put-key", project: "shop", key: "a", value: { n: 2 }, ifMatch: 7 }, 2),
    ]);
    // An old log replayed over a state.db that has them: the same records, not an error.
    const again = machine.applyBatch([
      audited(2, { type: "put-key", project: "shop", key: "b", value: { n: 3 } }, 1),
    ]);
    expect(again[0]?.ok).toBe(true);
    const rows = machine.store.db
      .prepare(
        "SELECT id, at, actor, action, project, target, address, result, detail FROM audit_log ORDER BY seq",
      )
      .all();
    expect(rows).toEqual([
      { ...draft(1), result: "ok", detail: null },
      { ...draft(2), result: "refused", detail: "412 precondition_failed" },
    ]);
  });
});
