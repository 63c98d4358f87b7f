import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import type { IdentityService } from "../../services/identity-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { projectParam, readJson, requireObject } from "../request.js";

/** A project's read-only API keys: created (the key is shown once), listed, revoked. */
/** `settle`: in a cluster, wait until every member applied a revocation before answering. */
export function apiKeyRoutes(
  identity: IdentityService,
  service: ConfigService,
  settle?: () => Promise<boolean>,
) {
  return new Hono<AuthEnv>()
    .get("/:project/api-keys", async (c) => c.json(await identity.listApiKeys(projectParam(c))))
    .post("/:project/api-keys", async (c) => {
      const project = projectParam(c);
      service.projectInfo(project);
      const body = requireObject(await readJson(c), "the body");
      if (typeof body.name === "string") c.set("auditTarget", body.name.slice(0, 64));
      return c.json(await identity.createApiKey(project, body.name, c.get("principal")), 201);
    })
    .delete("/:project/api-keys/:id", async (c) => {
      const result = await identity.revokeApiKey(projectParam(c), c.req.param("id"));
      const everywhere = settle ? await settle() : true;
      return c.json({ ...result, everywhere });
    });
}
