/**
 * Who may call each route: one rule per registered route ("METHOD /hono/path"). The authorize
 * middleware looks the matched route up here and refuses a route without a rule, and
 * rbac.test.ts fails when a route is registered without one, so no route is open by accident.
 */
import type { Role } from "../metadata/port.js";

export type Access =
  /** No credentials needed (login and friends; rate-limited). */
  | { who: "anyone" }
  /** Any valid credential, API keys included. */
  | { who: "authenticated" }
  /** A user (or the admin token): API keys are refused. */
  | { who: "user" }
  | { who: "cluster-admin" }
  /** At least this role in the route's :project (an API key counts as a viewer of its project). */
  | { who: "project"; role: Role };

export type Rule = Access & {
  /** The verb recorded in the audit log for a mutation. */
  action: string;
};

const anyone = (action: string): Rule => ({ who: "anyone", action });
const user = (action: string): Rule => ({ who: "user", action });
const clusterAdmin = (action: string): Rule => ({ who: "cluster-admin", action });
const project = (role: Role, action: string): Rule => ({ who: "project", role, action });

export const RULES: Record<string, Rule> = {
  "POST /v1/auth/login": anyone("auth.login"),
  "POST /v1/auth/refresh": anyone("auth.refresh"),
  "POST /v1/auth/bootstrap": anyone("auth.bootstrap"),
  "POST /v1/auth/logout": user("auth.logout"),
  "GET /v1/auth/me": { who: "authenticated", action: "auth.me" },
  "PUT /v1/auth/password": user("auth.password.change"),
  "POST /v1/auth/signing-keys": clusterAdmin("auth.signing-key.rotate"),

  "GET /v1/tokens": user("token.list"),
  "POST /v1/tokens": user("token.create"),
  "DELETE /v1/tokens/:id": user("token.revoke"),

  "GET /v1/users": clusterAdmin("user.list"),
  "POST /v1/users": clusterAdmin("user.create"),
  "GET /v1/users/:id": clusterAdmin("user.get"),
  "DELETE /v1/users/:id": clusterAdmin("user.delete"),
  "PUT /v1/users/:id/password": clusterAdmin("user.password.set"),

  "GET /v1/audit": clusterAdmin("audit.list"),

  "GET /v1/cluster": user("cluster.view"),
  "POST /v1/cluster/transfer-leadership": clusterAdmin("cluster.transfer-leadership"),
  "POST /v1/cluster/members": clusterAdmin("cluster.member.add"),
  "DELETE /v1/cluster/members/:id": clusterAdmin("cluster.member.remove"),
  "POST /v1/cluster/snapshot": clusterAdmin("cluster.snapshot"),
  "GET /v1/backup": clusterAdmin("cluster.backup"),

  "GET /v1/read/:project/:key{.+}": project("viewer", "app.read"),
  "GET /v1/watch/:project": project("viewer", "app.watch"),

  // Listing shows only the projects the caller is a member of.
  "GET /v1/projects": user("project.list"),
  "POST /v1/projects": clusterAdmin("project.create"),
  "GET /v1/projects/:project": project("viewer", "project.get"),
  "DELETE /v1/projects/:project": project("admin", "project.delete"),
  "GET /v1/projects/:project/manifest": project("viewer", "manifest.get"),
  "GET /v1/projects/:project/configs": project("viewer", "config.list"),
  "GET /v1/projects/:project/configs/:key{.+}": project("viewer", "config.get"),
  "PUT /v1/projects/:project/configs/:key{.+}": project("editor", "config.put"),
  "DELETE /v1/projects/:project/configs/:key{.+}": project("editor", "config.delete"),
  "GET /v1/projects/:project/pushes": project("viewer", "push.list"),
  "POST /v1/projects/:project/pushes": project("editor", "push"),
  "GET /v1/projects/:project/pushes/:revision": project("viewer", "push.get"),
  "POST /v1/projects/:project/rollback": project("editor", "rollback"),
  "GET /v1/projects/:project/schemas": project("viewer", "schema.list"),
  "PUT /v1/projects/:project/schemas/:name": project("admin", "schema.put"),
  "DELETE /v1/projects/:project/schemas/:name": project("admin", "schema.delete"),
  "GET /v1/projects/:project/members": project("viewer", "member.list"),
  "PUT /v1/projects/:project/members/:userId": project("admin", "member.set"),
  "DELETE /v1/projects/:project/members/:userId": project("admin", "member.remove"),
  "GET /v1/projects/:project/api-keys": project("admin", "apikey.list"),
  "POST /v1/projects/:project/api-keys": project("admin", "apikey.create"),
  "DELETE /v1/projects/:project/api-keys/:id": project("admin", "apikey.revoke"),
};

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3 };

export function roleAtLeast(role: Role | null, needed: Role): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}
