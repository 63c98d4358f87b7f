/**
 * Metadata in PostgreSQL with real cfgd processes: three nodes migrate one schema at once and
 * share users, roles and keys; when PostgreSQL goes away config reads go on, metadata routes answer
 * `unavailable`, and the nodes recover by themselves when it is back.
 */
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TestCluster } from "./helpers/cluster.js";
import { LinkProxy } from "./helpers/link-proxy.js";
import { ROOT } from "./helpers/processes.js";

const DATABASE_URL = process.env.CFG_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `cfg_e2e_${randomBytes(5).toString("hex")}`;
const pg = createRequire(join(ROOT, "packages/daemon/package.json"))("pg") as typeof import("pg");
const proxy = new LinkProxy(Number(new URL(DATABASE_URL).port || 5432));
let cluster: TestCluster | undefined;

afterAll(async () => {
  await cluster?.close();
  await proxy.close();
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

async function call(url: string, method: string, path: string, token: string | null, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, string> };
}

describe("metadata in PostgreSQL (3 real nodes)", () => {
  it("is shared by every node, and an outage makes metadata unavailable without stopping config reads", async () => {
    await proxy.listen();
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    url.hostname = "127.0.0.1";
    url.searchParams.set("schema", schema);
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      env: {
        CFGD_DATABASE_URL: url.toString(),
        CFGD_BOOTSTRAP_ADMIN_EMAIL: "root@example.com",
        CFGD_BOOTSTRAP_ADMIN_PASSWORD: "root password for pg",
      },
    });
    const c = cluster;
    const [n1, n2, n3] = c.members as [(typeof c.members)[0], (typeof c.members)[0], (typeof c.members)[0]];
    const login = (node: { url: string }) =>
      call(node.url, "POST", "/v1/auth/login", null, {
        email: "root@example.com",
        password: "root password for pg",
      });
    const root = (await c.until("bootstrap admin", async () => {
      const r = await login(n2);
      return r.status === 200 ? r.body.accessToken : undefined;
    })) as string;
    await c.until("project", async () =>
      (await call(n1.url, "POST", "/v1/projects", root, { name: "shop" })).status === 201 ? true : undefined,
    );
    expect((await call(n1.url, "PUT", "/v1/projects/shop/configs/a", root, { n: 1 })).status).toBe(200);
    const key = await call(n3.url, "POST", "/v1/projects/shop/api-keys", root, { name: "app" });
    expect(key.status).toBe(201);
    for (const node of c.members) {
      await c.until(`read on ${node.id}`, async () =>
        (await call(node.url, "GET", "/v1/read/shop/a", key.body.key!)).status === 200 ? true : undefined,
      );
    }
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    const { rows } = await client.query(`SELECT version FROM ${schema}.schema_migrations`);
    await client.end();
    expect(rows).toEqual([{ version: 1 }]);

    proxy.cut();
    const down = await login(n2);
    expect(down.status).toBe(503);
    expect(down.body.code).toBe("unavailable");
    // Apps keep reading: every node verified this key before the outage.
    for (const node of c.members)
      expect((await call(node.url, "GET", "/v1/read/shop/a", key.body.key!)).status).toBe(200);
    // A key no node has seen yet cannot be checked: unavailable, not unauthorized.
    const unseen = `cfgk_${"x".repeat(40)}`;
    const unknown = await call(n3.url, "GET", "/v1/read/shop/a", unseen);
    expect(unknown.status).toBe(503);
    expect(unknown.body.code).toBe("unavailable");
    // The node's own admin token needs no metadata: config reads and writes go on.
    expect((await c.call(n3, "GET", "/v1/projects/shop/configs/a")).status).toBe(200);
    expect((await c.call(n2, "PUT", "/v1/projects/shop/configs/a", { n: 2 })).status).toBe(200);

    proxy.heal();
    await c.until("recovery", async () => ((await login(n1)).status === 200 ? true : undefined));
    expect((await call(n3.url, "GET", "/v1/read/shop/a", key.body.key!)).status).toBe(200);
  }, 120_000);
});
