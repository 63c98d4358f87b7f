import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import { actorOf } from "../middleware/audit.js";
import type { AuthEnv } from "../middleware/auth.js";
import { consistencyParam, projectParam, readJson, requireObject } from "../request.js";

/** A project's schema set; usually changed by pushes, which carry the repository's whole set. */
export function schemaRoutes(service: ConfigService) {
  return new Hono<AuthEnv>()
    .get("/:project/schemas", async (c) => {
      const project = projectParam(c);
      return c.json(await service.read(consistencyParam(c, "linearizable"), () => service.schemas(project)));
    })
    .put("/:project/schemas/:name", async (c) => {
      const project = projectParam(c);
      const name = c.req.param("name");
      const body = requireObject(await readJson(c), "the schema binding");
      if (typeof body.match !== "string" || !("schema" in body)) {
        throw new CfgError(
          "bad_request",
          'the body needs "match" (a glob over keys) and "schema" (a JSON Schema)',
        );
      }
      const binding = { name, match: body.match, schema: body.schema as never };
      return c.json(await service.putSchema(project, binding, actorOf(c)));
    })
    .delete("/:project/schemas/:name", async (c) =>
      c.json(await service.deleteSchema(projectParam(c), c.req.param("name"), actorOf(c))),
    );
}
