import { Hono } from "hono";
import type { IdentityService } from "../../services/identity-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { readJson, requireObject } from "../request.js";

/** Users (cluster admins only). */
export function userRoutes(identity: IdentityService) {
  return new Hono<AuthEnv>()
    .get("/", async (c) => c.json(await identity.listUsers()))
    .post("/", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      if (typeof body.email === "string" && /^[^\s@]{1,64}@[^\s@]{1,255}$/.test(body.email))
        c.set("auditTarget", body.email.toLowerCase());
      return c.json(
        await identity.createUser({
          email: body.email,
          password: body.password,
          clusterAdmin: body.clusterAdmin,
        }),
        201,
      );
    })
    .get("/:id", async (c) => c.json(await identity.getUser(c.req.param("id"))))
    .put("/:id/password", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      return c.json(await identity.setPassword(c.req.param("id"), body.password));
    })
    .delete("/:id", async (c) => c.json(await identity.deleteUser(c.get("principal"), c.req.param("id"))));
}
