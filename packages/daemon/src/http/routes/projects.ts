import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import type { IdentityService } from "../../services/identity-service.js";
import { actorOf } from "../middleware/audit.js";
import type { AuthEnv } from "../middleware/auth.js";
import { consistencyParam, projectParam, readJson, requireObject } from "../request.js";
import { setHeader } from "../response.js";

/** `identity`: listings show only the caller's projects, and a deleted project loses its members and keys. */
export function projectRoutes(service: ConfigService, identity?: IdentityService) {
  return new Hono<AuthEnv>()
    .get("/", async (c) => {
      const list = await service.read(consistencyParam(c, "linearizable"), () => service.listProjects());
      const visible = identity ? await identity.visibleProjects(c.get("principal")) : null;
      return c.json(visible ? { ...list, items: list.items.filter((p) => visible.has(p.name)) } : list);
    })
    .post("/", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      if (typeof body.name !== "string")
        throw new CfgError("bad_request", 'the body needs "name" (the project name)');
      c.set("auditTarget", body.name.slice(0, 64));
      return c.json(await service.createProject(body.name, actorOf(c)), 201);
    })
    .get("/:project", async (c) => {
      const project = projectParam(c);
      const info = await service.read(consistencyParam(c, "linearizable"), () =>
        service.projectInfo(project),
      );
      setHeader(c, "X-Cfg-Revision", String(info.revision));
      return c.json(info);
    })
    .delete("/:project", async (c) => {
      const result = await service.deleteProject(projectParam(c), actorOf(c));
      await identity?.forgetProject(result.deleted);
      return c.json(result);
    });
}
