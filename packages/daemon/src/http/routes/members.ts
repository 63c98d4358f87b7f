import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import type { IdentityService } from "../../services/identity-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { projectParam, readJson, requireObject } from "../request.js";

/** A project's members and their roles; the user is named by id or email. */
export function memberRoutes(identity: IdentityService, service: ConfigService) {
  return new Hono<AuthEnv>()
    .get("/:project/members", async (c) => c.json(await identity.listMembers(projectParam(c))))
    .put("/:project/members/:userId", async (c) => {
      const project = projectParam(c);
      service.projectInfo(project);
      const body = requireObject(await readJson(c), "the body");
      return c.json(await identity.setMember(project, c.req.param("userId"), body.role));
    })
    .delete("/:project/members/:userId", async (c) =>
      c.json(await identity.removeMember(projectParam(c), c.req.param("userId"))),
    );
}
