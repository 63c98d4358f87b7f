import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../auth/admin-token.js";
import { openNode } from "../daemon.js";
import { silentLogger } from "../logger.js";
import { createApp } from "./app.js";

const TOKEN = "cfgt_test";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function setup(limits = { maxValueBytes: 1024, maxBodyBytes: 64 * 1024 }) {
  const dataDir = mkdtempSync(join(tmpdir(), "cfgd-app-"));
  const node = openNode(dataDir);
  closers.push(node.close);
  const app = createApp({
    service: node.service,
    authenticator: new AdminTokenAuthenticator(TOKEN),
    logger: silentLogger,
    ready: () => true,
    limits,
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  };
  return { app, call, node, dataDir };
}

const schema = {
  name: "service",
  match: "services/*",
  schema: { type: "object", required: ["port"], properties: { port: { type: "integer" } } },
};

async function withProject() {
  const ctx = setup();
  expect((await ctx.call("POST", "/v1/projects", { name: "shop" })).status).toBe(201);
  return ctx;
}

describe("auth and errors", () => {
  it("requires the admin token on /v1 and not on health routes", async () => {
    const { app } = setup();
    expect((await app.request("/healthz")).status).toBe(200);
    expect((await app.request("/readyz")).status).toBe(200);
    const missing = await app.request("/v1/projects");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("content-type")).toBe("application/problem+json");
    expect(await missing.json()).toMatchObject({ code: "unauthorized", status: 401 });
    const wrong = await app.request("/v1/projects", { headers: { authorization: "Bearer cfgt_wrong" } });
    expect(wrong.status).toBe(401);
  });
  it("answers unknown routes, bad names and malformed JSON with problems", async () => {
    const { call } = await withProject();
    expect((await call("GET", "/v1/nope")).body).toMatchObject({ code: "not_found" });
    expect((await call("POST", "/v1/projects", { name: "Bad Name" })).body).toMatchObject({
      code: "bad_request",
    });
    expect((await call("POST", "/v1/projects", { name: "shop" })).status).toBe(409);
    const bad = await call("PUT", "/v1/projects/shop/configs/a", "{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/not valid JSON/);
    expect((await call("PUT", "/v1/projects/shop/configs/Bad%20Key", { a: 1 })).status).toBe(400);
    expect((await call("GET", "/v1/projects/nope/manifest")).status).toBe(404);
  });
  it("refuses oversized values and bodies, changing nothing", async () => {
    const { call } = await withProject();
    const big = await call("PUT", "/v1/projects/shop/configs/big", { blob: "x".repeat(2000) });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: "payload_too_large", key: "big" });
    const huge = await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 0,
      changes: [],
      pad: "x".repeat(70_000),
    });
    expect(huge.status).toBe(413);
    expect((await call("GET", "/v1/projects/shop")).body.revision).toBe(0);
  });
});

describe("single-key reads and writes", () => {
  it("versions keys, honours If-Match and If-None-Match, and reads old revisions", async () => {
    const { call, app } = await withProject();
    const created = await call(
      "PUT",
      "/v1/projects/shop/configs/features/flags",
      { on: true },
      { "if-match": "0" },
    );
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      key: "features/flags",
      version: 1,
      revision: 1,
      value: { on: true },
    });
    expect(created.headers.get("etag")).toBe('"1"');
    const stale = await call(
      "PUT",
      "/v1/projects/shop/configs/features/flags",
      { on: false },
      { "if-match": '"0"' },
    );
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe("precondition_failed");
    const updated = await call(
      "PUT",
      "/v1/projects/shop/configs/features/flags",
      { on: false },
      { "if-match": '"1"' },
    );
    expect(updated.body).toMatchObject({ version: 2, revision: 2 });
    const notModified = await app.request("/v1/projects/shop/configs/features/flags", {
      headers: { authorization: `Bearer ${TOKEN}`, "if-none-match": '"2"' },
    });
    expect(notModified.status).toBe(304);
    expect((await call("GET", "/v1/projects/shop/configs/features/flags?revision=1")).body.value).toEqual({
      on: true,
    });
    expect(
      (await call("DELETE", "/v1/projects/shop/configs/features/flags", undefined, { "if-match": "1" }))
        .status,
    ).toBe(412);
    expect((await call("DELETE", "/v1/projects/shop/configs/features/flags")).body.revision).toBe(3);
    expect((await call("GET", "/v1/projects/shop/configs/features/flags")).status).toBe(404);
    expect((await call("GET", "/v1/projects/shop/configs/features/flags?revision=2")).body.value).toEqual({
      on: false,
    });
    const history = await call("GET", "/v1/projects/shop/pushes");
    expect(history.body.items.map((r: { kind: string }) => r.kind)).toEqual(["delete", "put", "put"]);
  });
});

describe("pushes", () => {
  it("applies a push atomically with its provenance, and a no-change push creates no revision", async () => {
    const { call } = await withProject();
    const body = {
      baseRevision: 0,
      changes: [
        { op: "put", key: "services/api", value: { port: 80 } },
        { op: "put", key: "services/web", value: { port: 81 } },
      ],
      schemas: [schema],
      git: { commit: "a".repeat(40), branch: "main", author: "A <a@x>", message: "first", dirty: false },
    };
    const pushed = await call("POST", "/v1/projects/shop/pushes", body);
    expect(pushed.body).toMatchObject({ revision: 1, applied: true, schemasChanged: true });
    const again = await call("POST", "/v1/projects/shop/pushes", { ...body, baseRevision: 1 });
    expect(again.body).toMatchObject({ revision: 1, applied: false, changes: [] });
    const record = await call("GET", "/v1/projects/shop/pushes/1");
    expect(record.body).toMatchObject({
      kind: "push",
      message: "first",
      git: { branch: "main" },
      actor: "admin",
    });
    const manifest = await call("GET", "/v1/projects/shop/manifest");
    expect(Object.keys(manifest.body.entries)).toEqual(["services/api", "services/web"]);
    expect(manifest.body.schemas.service.match).toBe("services/*");
    expect(manifest.headers.get("x-cfg-revision")).toBe("1");
  });

  it("refuses a stale push with the conflicting keys, applying nothing", async () => {
    const { call } = await withProject();
    await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 0,
      changes: [{ op: "put", key: "a", value: 1 }],
    });
    await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 1,
      changes: [{ op: "put", key: "a", value: 2 }],
    });
    const stale = await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 1,
      changes: [
        { op: "put", key: "a", value: 3 },
        { op: "put", key: "b", value: 3 },
      ],
    });
    expect(stale.status).toBe(409);
    expect(stale.body.conflicts).toEqual([{ key: "a", currentVersion: 2, changedAtRevision: 2 }]);
    expect((await call("GET", "/v1/projects/shop/configs/b")).status).toBe(404);
  });

  it("lists every schema error and applies nothing, including values a new schema would break", async () => {
    const { call } = await withProject();
    await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 0,
      changes: [{ op: "put", key: "services/old", value: { port: "80" } }],
    });
    const refused = await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 1,
      changes: [
        { op: "put", key: "services/api", value: { port: "x" } },
        { op: "put", key: "services/web", value: {} },
      ],
      schemas: [schema],
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { key: "services/api", pointer: "/port", message: "must be integer", schema: "service" },
      {
        key: "services/web",
        pointer: "/port",
        message: 'missing required property "port"',
        schema: "service",
      },
      { key: "services/old", pointer: "/port", message: "must be integer", schema: "service" },
    ]);
    expect((await call("GET", "/v1/projects/shop")).body.revision).toBe(1);
    const badSchema = await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 1,
      changes: [],
      schemas: [{ name: "x", match: "a/*", schema: { type: "nonsense" } }],
    });
    expect(badSchema.status).toBe(422);
    expect(badSchema.body.errors[0].message).toMatch(/invalid JSON Schema/);
  });

  it("dry runs change nothing", async () => {
    const { call } = await withProject();
    const dry = await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 0,
      changes: [{ op: "put", key: "a", value: { x: 1 } }],
      dryRun: true,
    });
    expect(dry.body).toMatchObject({
      applied: false,
      dryRun: true,
      changes: [{ op: "put", key: "a", toVersion: 1 }],
    });
    expect((await call("GET", "/v1/projects/shop")).body.revision).toBe(0);
  });
});

describe("rollback", () => {
  it("restores a whole project (schemas too) or chosen keys, as new revisions", async () => {
    const { call } = await withProject();
    await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 0,
      changes: [
        { op: "put", key: "services/api", value: { port: 1 } },
        { op: "put", key: "b", value: "one" },
      ],
    });
    await call("POST", "/v1/projects/shop/pushes", {
      baseRevision: 1,
      changes: [
        { op: "put", key: "services/api", value: { port: 2 } },
        { op: "delete", key: "b" },
        { op: "put", key: "c", value: true },
      ],
      schemas: [schema],
    });
    const preview = await call("POST", "/v1/projects/shop/rollback", { toRevision: 1, dryRun: true });
    expect(preview.body).toMatchObject({ applied: false, dryRun: true, schemasChanged: true });
    expect((await call("GET", "/v1/projects/shop")).body.revision).toBe(2);
    const stale = await call("POST", "/v1/projects/shop/rollback", { toRevision: 1, baseRevision: 1 });
    expect(stale.status).toBe(409);
    const rolled = await call("POST", "/v1/projects/shop/rollback", { toRevision: 1, baseRevision: 2 });
    expect(rolled.body).toMatchObject({ revision: 3, applied: true, schemasChanged: true });
    const manifest = await call("GET", "/v1/projects/shop/manifest");
    expect(Object.keys(manifest.body.entries).sort()).toEqual(["b", "services/api"]);
    expect(manifest.body.schemas).toEqual({});
    expect((await call("GET", "/v1/projects/shop/pushes/3")).body).toMatchObject({
      kind: "rollback",
      rollbackTo: 1,
    });
    const keysOnly = await call("POST", "/v1/projects/shop/rollback", { toRevision: 2, keys: ["c"] });
    // c was deleted by the rollback (version 2); restoring it makes version 3.
    expect(keysOnly.body.changes).toEqual([
      { op: "put", key: "c", fromVersion: 0, toVersion: 3, after: true },
    ]);
    // b has the same content at revision 3 as now: nothing to change, no revision.
    const same = await call("POST", "/v1/projects/shop/rollback", { toRevision: 3, keys: ["b"] });
    expect(same.body).toMatchObject({ applied: false, revision: 4, changes: [] });
  });
});
