import { CfgError } from "@cfguardian/shared";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AuditScope } from "../../audit/audit-scope.js";
import type { Authenticator, Principal, RoleLookup } from "../../auth/authenticator.js";
import { type Rule, roleAtLeast } from "../rbac.js";
import { requestHeader } from "../request.js";

export type AuthEnv = {
  Variables: {
    principal: Principal;
    requestId: string;
    rule: Rule;
    forwarded: boolean;
    auditTarget: string;
    auditScope: AuditScope | undefined;
  };
};

type Route = ReturnType<typeof matchedRoutes>[number];

/** Each request's route and path parameters, worked out once: three middlewares ask for them. */
const routes = new WeakMap<Context, { route: Route | undefined; params?: Record<string, string> }>();

/** The route a request will be handled by: the first matched one that is not middleware. */
export function routeOf(c: Context): Route | undefined {
  let known = routes.get(c);
  if (!known) {
    known = { route: matchedRoutes(c).find((r) => r.method !== "ALL") };
    routes.set(c, known);
  }
  return known.route;
}

/** The `:name` values of the request's route (none without a route; see pathParams). */
export function routeParams(c: Context): Record<string, string> {
  const route = routeOf(c);
  const known = routes.get(c)!;
  known.params ??= route ? pathParams(route.path, c.req.path) : {};
  return known.params;
}

/**
 * The `:name` values of the matched route's pattern, read from the request path in one pass. A
 * last `:name{.+}` (a key: `services/api`) takes the rest of the path, as the router matched it.
 */
export function pathParams(pattern: string, path: string): Record<string, string> {
  const slots = patternSlots(pattern);
  const params: Record<string, string> = {};
  if (slots.length === 0) return params;
  const segments = path.split("/");
  for (const { at, name, rest } of slots) {
    const raw = rest ? segments.slice(at).join("/") : segments[at];
    if (raw === undefined || raw === "") continue;
    try {
      params[name] = raw.includes("%") ? decodeURIComponent(raw) : raw;
    } catch {
      // Not percent-decodable: the route's own checks refuse it.
    }
  }
  return params;
}

interface Slot {
  /** Index of the path segment. */
  at: number;
  name: string;
  /** `:name{.+}` last in the pattern: takes the rest of the path. */
  rest: boolean;
}

/** The `:name` slots of each route pattern, worked out once (there are a few dozen patterns). */
const slotsByPattern = new Map<string, Slot[]>();
function patternSlots(pattern: string): Slot[] {
  let slots = slotsByPattern.get(pattern);
  if (!slots) {
    const parts = pattern.split("/");
    slots = parts.flatMap((part, at) => {
      if (!part.startsWith(":")) return [];
      const brace = part.indexOf("{");
      const name = brace < 0 ? part.slice(1) : part.slice(1, brace);
      return [{ at, name, rest: part.endsWith("{.+}") && at === parts.length - 1 }];
    });
    slotsByPattern.set(pattern, slots);
  }
  return slots;
}

async function principalOf(authenticator: Authenticator, header: string | undefined): Promise<Principal> {
  if (!header) {
    throw new CfgError(
      "unauthorized",
      "missing Authorization header; send 'Authorization: Bearer <token>' (see `cfg login`)",
    );
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new CfgError("unauthorized", "malformed Authorization header; expected 'Bearer <token>'");
  const principal = await authenticator.authenticate(match[1]!);
  if (!principal) throw new CfgError("unauthorized", "invalid, expired or revoked token; run `cfg login`");
  return principal;
}

/**
 * Every /v1 route: find its rule (none: refused), authenticate the bearer credential unless the
 * rule lets anyone in, and check the cluster-admin flag or the role in the route's project.
 */
export function authorize(rules: Record<string, Rule>, authenticator: Authenticator, roleOf: RoleLookup) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const route = routeOf(c as unknown as Context);
    if (!route) return next(); // no such route: 404 from notFound
    const rule = rules[`${route.method} ${route.path}`];
    if (!rule) throw new CfgError("forbidden", `no access rule for ${route.method} ${route.path}`);
    c.set("rule", rule);
    if (rule.who === "anyone") return next();
    const principal = await principalOf(
      authenticator,
      requestHeader(c as unknown as Context, "authorization"),
    );
    c.set("principal", principal);
    if (rule.who === "user" && principal.kind === "apikey") {
      throw new CfgError("forbidden", "an API key can only read its project's configs");
    }
    if (rule.who === "cluster-admin" && !principal.admin) {
      throw new CfgError("forbidden", "this needs a cluster admin");
    }
    if (rule.who === "project") {
      const project = routeParams(c as unknown as Context).project ?? "";
      const role = await roleOf(principal, project);
      if (!roleAtLeast(role, rule.role)) {
        throw new CfgError(
          "forbidden",
          role
            ? `this needs the ${rule.role} role in ${project}; you are ${role}`
            : `you have no role in ${project}; ask a project admin (cfg member set)`,
        );
      }
    }
    await next();
  });
}
