import { CfgError } from "@cfguardian/shared";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { auditId } from "../../audit/audit-id.js";
import { type Actor, type AuditDraft, AuditScope } from "../../audit/audit-scope.js";
import type { Logger } from "../../logger.js";
import type { AuditResult, MetadataStore } from "../../metadata/port.js";
import { isoTime } from "../../runtime/iso-time.js";
import { type AuthEnv, routeOf, routeParams } from "./auth.js";
import { clientAddress } from "./client-address.js";

const TARGETS = ["key", "userId", "id", "name", "revision"];

/** The caller of a route, with the request's audit scope for the command it proposes. */
export const actorOf = (c: Context<AuthEnv>): Actor => ({
  subject: c.get("principal").subject,
  audit: c.get("auditScope"),
});

/**
 * One audit record per mutation (every method but GET and HEAD), refused ones included: who,
 * what (the route's action), when, from which address, the result. Only names from the path go
 * in (or an email set by the route): never a body, so never a password, token or value. A request
 * forwarded to the leader is recorded by the leader. With embedded metadata (`inCommands`) the
 * record of a request that proposes a config change rides in that command (see audit-scope), so
 * the change and its record commit together in one Raft round.
 */
export function audit(
  store: MetadataStore,
  logger: Logger,
  options: { inCommands?: boolean; now?: () => Date } = {},
) {
  const now = options.now ?? (() => new Date());
  const record: MiddlewareHandler<AuthEnv> = async (c, next) => {
    const draft = (): AuditDraft | null => {
      if (c.get("forwarded")) return null;
      const rule = c.get("rule");
      const route = routeOf(c as unknown as Context);
      if (!rule || !route) return null;
      const params = routeParams(c as unknown as Context);
      const target =
        c.get("auditTarget") ?? TARGETS.map((name) => params[name]).find((v) => v !== undefined) ?? null;
      const at = now();
      return {
        id: auditId(at.getTime()),
        at: isoTime(at),
        actor: c.get("principal")?.subject ?? "anonymous",
        action: rule.action,
        project: params.project ?? null,
        target: target && target.length > 512 ? `${target.slice(0, 512)}…` : target,
        address: clientAddress(c as unknown as Context),
      };
    };
    // With embedded metadata, the config command the request proposes carries the record.
    const scope = options.inCommands ? new AuditScope(draft) : undefined;
    c.set("auditScope", scope);
    await next();
    if (scope?.taken) return;
    const record = draft();
    if (!record) return;
    const status = c.res.status;
    const result: AuditResult = status < 400 ? "ok" : status < 500 ? "refused" : "failed";
    const error = c.error instanceof CfgError ? c.error.code : null;
    try {
      await store.appendAudit({
        ...record,
        result,
        detail: result === "ok" ? null : `${status}${error ? ` ${error}` : ""}`,
      });
    } catch (e) {
      // A node-local operation on a follower (cluster snapshot) cannot be proposed from there.
      const level = e instanceof CfgError && e.code === "not_leader" ? "debug" : "warn";
      logger[level]("could not write the audit record", {
        action: record.action,
        error: (e as Error).message,
      });
    }
  };
  // Reads go straight on (see response-headers on why not async).
  return createMiddleware<AuthEnv>((c, next) =>
    c.req.method === "GET" || c.req.method === "HEAD" ? next() : record(c, next),
  );
}
