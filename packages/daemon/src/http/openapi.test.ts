import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../auth/admin-token.js";
import { openNode } from "../daemon.js";
import { silentLogger } from "../logger.js";
import { EmbeddedMetadataStore } from "../metadata/embedded/embedded-store.js";
import { IdentityService } from "../services/identity-service.js";
import { WatchService } from "../services/watch-service.js";
import { createApp } from "./app.js";
import { INTERNAL_ROUTES, openApiDocument } from "./openapi.js";

const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-openapi-")));
afterAll(() => node.close());
const identity = new IdentityService(new EmbeddedMetadataStore(node.log, node.machine.store.db), {
  logger: silentLogger,
});

/** Every route of a node in cluster mode (the superset), as "METHOD /path/{param}". */
function registeredRoutes(): string[] {
  const unused = () => {
    throw new Error("not called");
  };
  const app = createApp({
    service: node.service,
    authenticator: new AdminTokenAuthenticator("t"),
    identity,
    logger: silentLogger,
    ready: () => true,
    limits: { maxValueBytes: 1024, maxBodyBytes: 1024 },
    watch: new WatchService(node.machine),
    backup: unused,
    cluster: {
      nodeId: "n1",
      secret: "s".repeat(16),
      clusterId: "c",
      receive: unused,
      locator: { isLeader: () => true, leaderUrl: () => null },
      control: {
        view: unused,
        transferLeadership: unused,
        addMember: unused,
        removeMember: unused,
        snapshot: unused,
      },
    },
  });
  return [
    ...new Set(
      app.routes
        .filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`),
    ),
  ].sort();
}

function documentedRoutes(): string[] {
  return Object.entries(openApiDocument.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("the OpenAPI document", () => {
  it("describes exactly the routes the app registers (add a route: describe it in http/openapi.ts)", () => {
    const registered = registeredRoutes().filter((r) => !INTERNAL_ROUTES.includes(r));
    expect(registered).toEqual(documentedRoutes());
  });

  it("is valid OpenAPI 3.1 by the standard schema, with every $ref resolved", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument) as object);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    const refs = JSON.stringify(openApiDocument).match(/#\/components\/schemas\/\w+/g) ?? [];
    for (const ref of refs) {
      expect(openApiDocument.components.schemas).toHaveProperty(ref.split("/").pop()!);
    }
  });

  it("is served at /openapi.json and as a page at /docs, without a token", async () => {
    const app = createApp({
      service: node.service,
      authenticator: new AdminTokenAuthenticator("t"),
      logger: silentLogger,
      ready: () => true,
      limits: { maxValueBytes: 1024, maxBodyBytes: 1024 },
    });
    const doc = await app.request("/openapi.json");
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe("3.1.0");
    const page = await app.request("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toMatch(/<code>\/v1\/projects\/\{project\}\/pushes<\/code>/);
    expect(html).not.toMatch(/<script/);
  });
});
