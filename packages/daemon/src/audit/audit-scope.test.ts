import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openNode } from "../daemon.js";
import { EmbeddedMetadataStore } from "../metadata/embedded/embedded-store.js";
import { ConfigService } from "../services/config-service.js";
import { type AuditDraft, AuditScope } from "./audit-scope.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "cfg-audit-"));
  const node = openNode(dir);
  closers.push(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    config: new ConfigService(node.log, node.machine),
    store: new EmbeddedMetadataStore(node.log, node.machine.store.db),
    appliedIndex: () => node.log.appliedIndex(),
  };
}

let n = 0;
const draft = (action: string): AuditDraft => ({
  id: `audit-${++n}`,
  at: "2026-11-24T00:00:00.000Z",
  actor: "ana@example.com",
  action,
  project: "shop",
  target: null,
  address: "127.0.0.1",
});

describe("an audit record carried by the command it describes", () => {
  it("is written with the command's result in the same log entry, once per request", async () => {
    const { config, store, appliedIndex } = setup();
    await config.createProject("shop", "ana@example.com");
    const before = appliedIndex();
    const push = (audit: AuditScope) =>
      config.push(
        "shop",
        { baseRevision: 0, changes: [{ op: "put", key: "a", value: 1 }] },
        { subject: "ana@example.com", audit },
      );
    const scope = new AuditScope(() => draft("push"));
    await push(scope);
    // A second proposal in the same request does not take the record again.
    await config.createProject("other", { subject: "ana@example.com", audit: scope });
    expect(scope.taken).toBe(true);
    // Two commands, two entries: the record added no entry of its own.
    expect(appliedIndex()).toBe(before + 2);
    // The same push again is stale (base revision 0): refused when applied, and recorded so.
    const refused = new AuditScope(() => draft("push"));
    await expect(push(refused)).rejects.toMatchObject({ code: "conflict" });
    expect(refused.taken).toBe(true);
    const records = await store.listAudit({ project: "shop" });
    expect(records.map((r) => [r.action, r.result, r.detail])).toEqual([
      ["push", "refused", "409 conflict"],
      ["push", "ok", null],
    ]);
  });

  it("is left to the caller when the request proposes nothing, or outside a scope", async () => {
    const { config, store } = setup();
    await config.createProject("shop", "ana@example.com");
    expect(new AuditScope(() => draft("push")).taken).toBe(false);
    // A dry run never enters the log, so it cannot carry the record.
    const dry = new AuditScope(() => draft("push"));
    await config.push(
      "shop",
      { baseRevision: 0, changes: [{ op: "put", key: "a", value: 1 }], dryRun: true },
      { subject: "ana@example.com", audit: dry },
    );
    expect(dry.taken).toBe(false);
    // Without a scope (a plain subject), a command carries no record.
    await config.createProject("plain", "ana@example.com");
    expect(await store.listAudit({})).toEqual([]);
  });
});
