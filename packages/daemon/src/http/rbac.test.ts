/**
 * The RBAC matrix: every registered /v1 route has a rule in rbac.ts (a route added without one
 * fails here), and every rule is tried with every kind of caller against the real app.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../auth/admin-token.js";
import type { Principal } from "../auth/authenticator.js";
import { openNode } from "../daemon.js";
import { silentLogger } from "../logger.js";
import { EmbeddedMetadataStore } from "../metadata/embedded/embedded-store.js";
import type { Role } from "../metadata/port.js";
import { IdentityService } from "../services/identity-service.js";
import { WatchService } from "../services/watch-service.js";
import { createApp } from "./app.js";
import { RULES, type Rule, roleAtLeast } from "./rbac.js";

const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-rbac-")));
afterAll(() => node.close());
const ADMIN_TOKEN = "cfgt_break_glass";
const identity = new IdentityService(new EmbeddedMetadataStore(node.log, node.machine.store.db), {
  adminToken: new AdminTokenAuthenticator(ADMIN_TOKEN),
  logger: silentLogger,
});
const refuse = () => {
  throw new Error("not in this test");
};
/** A node in cluster mode with identity: the superset of routes. */
const app = createApp({
  service: node.service,
  authenticator: new AdminTokenAuthenticator(ADMIN_TOKEN),
  identity,
  logger: silentLogger,
  ready: () => true,
  limits: { maxValueBytes: 1024, maxBodyBytes: 64 * 1024 },
  watch: new WatchService(node.machine),
  backup: refuse,
  cluster: {
    nodeId: "n1",
    secret: "s".repeat(16),
    clusterId: "c",
    receive: refuse,
    locator: { isLeader: () => true, leaderUrl: () => null },
    control: {
      view: refuse,
      transferLeadership: refuse,
      addMember: refuse,
      removeMember: refuse,
      snapshot: refuse,
    },
  },
});

const v1Routes = () =>
  [
    ...new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
        .map((r) => `${r.method} ${r.path}`),
    ),
  ].sort();

type Caller =
  | "anonymous"
  | "outsider"
  | "viewer"
  | "editor"
  | "admin"
  | "cluster-admin"
  | "admin-token"
  | "apikey-own"
  | "apikey-other";
const CALLERS: Caller[] = [
  "anonymous",
  "outsider",
  "viewer",
  "editor",
  "admin",
  "cluster-admin",
  "admin-token",
  "apikey-own",
  "apikey-other",
];
const credentials = new Map<Caller, string>();

const PASSWORD = "a long enough password";
const root: Principal = { subject: "admin", admin: true, kind: "admin-token" };

async function fixtures() {
  if (!node.machine.store.project("shop")) await node.service.createProject("shop", "test");
  if (!node.machine.store.project("other")) await node.service.createProject("other", "test");
  for (const role of ["viewer", "editor", "admin"] as Role[]) {
    const email = `${role}@example.com`;
    if (!(await identity.store.findUserByEmail(email))) {
      await identity.createUser({ email, password: PASSWORD });
    }
    await identity.setMember("shop", email, role);
  }
  if ((await identity.listApiKeys("shop")).items.every((k) => k.revokedAt)) {
    credentials.set("apikey-own", (await identity.createApiKey("shop", "own", root)).key);
  }
}

beforeAll(async () => {
  await identity.bootstrap({ email: "root@example.com", password: PASSWORD });
  await identity.createUser({ email: "outsider@example.com", password: PASSWORD });
  await fixtures();
  credentials.set("apikey-other", (await identity.createApiKey("other", "other", root)).key);
  credentials.set("admin-token", ADMIN_TOKEN);
  for (const [caller, email] of [
    ["outsider", "outsider@example.com"],
    ["viewer", "viewer@example.com"],
    ["editor", "editor@example.com"],
    ["admin", "admin@example.com"],
    ["cluster-admin", "root@example.com"],
  ] as const) {
    const user = await identity.resolveUser(email);
    const ci = await identity.createCiToken(
      { ...root, userId: user.id, kind: "user", subject: email },
      "rbac",
    );
    credentials.set(caller, ci.token);
  }
});

const ROLE_OF: Partial<Record<Caller, Role>> = {
  viewer: "viewer",
  editor: "editor",
  admin: "admin",
  "apikey-own": "viewer",
};

/** 401, 403, or "allowed" (anything else). */
function expected(rule: Rule, caller: Caller): 401 | 403 | "allowed" {
  if (rule.who === "anyone") return "allowed";
  if (caller === "anonymous") return 401;
  const clusterAdmin = caller === "cluster-admin" || caller === "admin-token";
  const apiKey = caller.startsWith("apikey");
  switch (rule.who) {
    case "authenticated":
      return "allowed";
    case "user":
      return apiKey ? 403 : "allowed";
    case "cluster-admin":
      return clusterAdmin ? "allowed" : 403;
    case "project":
      return clusterAdmin || roleAtLeast(ROLE_OF[caller] ?? null, rule.role) ? "allowed" : 403;
  }
}

const concrete = (path: string) =>
  path
    .replace(":project", "shop")
    .replace(/:key\{[^}]*\}/, "a/b")
    .replace(":userId", "nobody")
    .replace(":revision", "1")
    .replace(/:\w+/g, "x");

describe("RBAC", () => {
  it("has a rule for every registered /v1 route, and no rule for a route that does not exist", () => {
    const routes = v1Routes();
    expect(
      routes.filter((r) => !(r in RULES)),
      "routes without a rule in http/rbac.ts",
    ).toEqual([]);
    expect(
      Object.keys(RULES).filter((r) => !routes.includes(r)),
      "rules for no route",
    ).toEqual([]);
  });

  const cases = Object.entries(RULES)
    .filter(([, rule]) => rule.who !== "anyone")
    .flatMap(([route, rule]) => CALLERS.map((caller) => [route, caller, rule] as const));

  it.each(cases)("%s as %s", async (route, caller, rule) => {
    await fixtures();
    const [method, path] = route.split(" ") as [string, string];
    const token = credentials.get(caller);
    const response = await app.request(concrete(path), {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      body: method === "GET" || method === "DELETE" ? undefined : "{}",
    });
    await response.body?.cancel();
    const want = expected(rule, caller);
    if (want === "allowed") expect([401, 403], `${route} as ${caller}`).not.toContain(response.status);
    else expect(response.status, `${route} as ${caller}`).toBe(want);
  });
});

/**
 * Who may call each route, written out by hand: a rule weakened in rbac.ts (say, pushes opened to
 * viewers) fails here, since the matrix below derives its expectations from the rules themselves.
 * DESIGN.md: viewer reads, diffs and sees history; editor also pushes and rolls back; admin also
 * manages members, API keys and the schema set; cluster admins run users, the cluster and audit.
 */
const INTENDED: Record<string, string> = {
  "POST /v1/auth/login": "anyone",
  "POST /v1/auth/refresh": "anyone",
  "POST /v1/auth/bootstrap": "anyone",
  "POST /v1/auth/logout": "user",
  "GET /v1/auth/me": "authenticated",
  "PUT /v1/auth/password": "user",
  "POST /v1/auth/signing-keys": "cluster-admin",
  "GET /v1/tokens": "user",
  "POST /v1/tokens": "user",
  "DELETE /v1/tokens/:id": "user",
  "GET /v1/users": "cluster-admin",
  "POST /v1/users": "cluster-admin",
  "GET /v1/users/:id": "cluster-admin",
  "DELETE /v1/users/:id": "cluster-admin",
  "PUT /v1/users/:id/password": "cluster-admin",
  "GET /v1/audit": "cluster-admin",
  "GET /v1/cluster": "user",
  "POST /v1/cluster/transfer-leadership": "cluster-admin",
  "POST /v1/cluster/members": "cluster-admin",
  "DELETE /v1/cluster/members/:id": "cluster-admin",
  "POST /v1/cluster/snapshot": "cluster-admin",
  "GET /v1/backup": "cluster-admin",
  "GET /v1/read/:project/:key{.+}": "viewer",
  "GET /v1/watch/:project": "viewer",
  "GET /v1/projects": "user",
  "POST /v1/projects": "cluster-admin",
  "GET /v1/projects/:project": "viewer",
  "DELETE /v1/projects/:project": "admin",
  "GET /v1/projects/:project/manifest": "viewer",
  "GET /v1/projects/:project/configs": "viewer",
  "GET /v1/projects/:project/configs/:key{.+}": "viewer",
  "PUT /v1/projects/:project/configs/:key{.+}": "editor",
  "DELETE /v1/projects/:project/configs/:key{.+}": "editor",
  "GET /v1/projects/:project/pushes": "viewer",
  "POST /v1/projects/:project/pushes": "editor",
  "GET /v1/projects/:project/pushes/:revision": "viewer",
  "POST /v1/projects/:project/rollback": "editor",
  "GET /v1/projects/:project/schemas": "viewer",
  "PUT /v1/projects/:project/schemas/:name": "admin",
  "DELETE /v1/projects/:project/schemas/:name": "admin",
  "GET /v1/projects/:project/members": "viewer",
  "PUT /v1/projects/:project/members/:userId": "admin",
  "DELETE /v1/projects/:project/members/:userId": "admin",
  "GET /v1/projects/:project/api-keys": "admin",
  "POST /v1/projects/:project/api-keys": "admin",
  "DELETE /v1/projects/:project/api-keys/:id": "admin",
};

describe("RBAC rules as intended", () => {
  it("gives every route exactly the access written out here", () => {
    const actual = Object.fromEntries(
      Object.entries(RULES).map(([route, rule]) => [route, rule.who === "project" ? rule.role : rule.who]),
    );
    expect(actual).toEqual(INTENDED);
  });
});
