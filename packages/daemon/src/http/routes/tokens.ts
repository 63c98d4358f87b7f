import { Hono } from "hono";
import type { IdentityService } from "../../services/identity-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { readJson, requireObject } from "../request.js";

/** The caller's long-lived CI tokens: created (shown once), listed, revoked. */
export function tokenRoutes(identity: IdentityService) {
  return new Hono<AuthEnv>()
    .get("/", async (c) => c.json(await identity.listTokens(c.get("principal"))))
    .post("/", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      if (typeof body.name === "string") c.set("auditTarget", body.name.slice(0, 64));
      return c.json(await identity.createCiToken(c.get("principal"), body.name, body.expiresInDays), 201);
    })
    .delete("/:id", async (c) => c.json(await identity.revokeToken(c.get("principal"), c.req.param("id"))));
}
