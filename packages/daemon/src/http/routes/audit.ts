import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import type { MetadataStore } from "../../metadata/port.js";
import type { AuthEnv } from "../middleware/auth.js";

const int = (value: string | undefined, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new CfgError("bad_request", `${name} must be a whole number`);
  return Number(value);
};

/** GET /v1/audit: the audit log, newest first (?limit, ?before, ?project, ?actor). */
export function auditRoutes(store: MetadataStore) {
  return new Hono<AuthEnv>().get("/", async (c) => {
    const items = await store.listAudit({
      limit: int(c.req.query("limit"), "limit"),
      before: int(c.req.query("before"), "before"),
      project: c.req.query("project"),
      actor: c.req.query("actor"),
    });
    return c.json({ items, next: items.length > 0 ? items[items.length - 1]!.seq : null });
  });
}
