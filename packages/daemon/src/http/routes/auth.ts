import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import type { IdentityService } from "../../services/identity-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { bodyText, readJson, requireObject } from "../request.js";

/**
 * The email for the audit record, only when it looks like one: someone who typed their password
 * into the email field must not find it in the audit log.
 */
const auditEmail = (email: unknown): string =>
  typeof email === "string" && /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(email)
    ? email.toLowerCase()
    : "(not an email)";

/** Login, refresh, logout, bootstrap, who am I, and signing-key rotation. */
export function authRoutes(identity: IdentityService) {
  return new Hono<AuthEnv>()
    .post("/login", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      c.set("auditTarget", auditEmail(body.email));
      return c.json(await identity.login(body.email, body.password));
    })
    .post("/refresh", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      return c.json(await identity.refresh(body.refreshToken));
    })
    .post("/bootstrap", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      c.set("auditTarget", auditEmail(body.email));
      return c.json(await identity.redeemBootstrapCode(body.code, body.email, body.password), 201);
    })
    .post("/logout", async (c) => {
      const text = (await bodyText(c)).trim();
      let body: Record<string, unknown> = {};
      if (text) {
        try {
          body = requireObject(JSON.parse(text), "the body");
        } catch {
          throw new CfgError("bad_request", "the body must be empty or {refreshToken}");
        }
      }
      return c.json(await identity.logout(c.get("principal"), body.refreshToken));
    })
    .put("/password", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      return c.json(
        await identity.changeOwnPassword(c.get("principal"), {
          password: body.password,
          currentPassword: body.currentPassword,
        }),
      );
    })
    .get("/me", async (c) => {
      const p = c.get("principal");
      return c.json({
        subject: p.subject,
        kind: p.kind,
        clusterAdmin: p.admin,
        userId: p.userId ?? null,
        project: p.project ?? null,
        memberships: p.userId ? await identity.store.membershipsOf(p.userId) : [],
      });
    })
    .post("/signing-keys", async (c) => c.json({ id: await identity.tokens.rotate() }, 201));
}
