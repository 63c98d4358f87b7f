import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import type { AuthEnv } from "../middleware/auth.js";
import { consistencyParam, projectParam, readJson, requireObject } from "../request.js";

export function projectRoutes(service: ConfigService) {
  return new Hono<AuthEnv>()
    .get("/", async (c) =>
      c.json(await service.read(consistencyParam(c, "linearizable"), () => service.listProjects())),
    )
    .post("/", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      if (typeof body.name !== "string")
        throw new CfgError("bad_request", 'the body needs "name" (the project name)');
      return c.json(await service.createProject(body.name, c.get("principal").subject), 201);
    })
    .get("/:project", async (c) => {
      const project = projectParam(c);
      const info = await service.read(consistencyParam(c, "linearizable"), () =>
        service.projectInfo(project),
      );
      c.header("X-Cfg-Revision", String(info.revision));
      return c.json(info);
    })
    .delete("/:project", async (c) =>
      c.json(await service.deleteProject(projectParam(c), c.get("principal").subject)),
    );
}
