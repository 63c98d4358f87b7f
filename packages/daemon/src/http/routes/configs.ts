import type { JsonValue } from "@cfguardian/shared";
import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import { actorOf } from "../middleware/audit.js";
import type { AuthEnv } from "../middleware/auth.js";
import {
  checkValueSize,
  consistencyParam,
  ifMatch,
  intQuery,
  keyParam,
  projectParam,
  readJson,
  requestHeader,
} from "../request.js";
import { setHeader } from "../response.js";

const etag = (version: number) => `"${version}"`;

/** Manifest, listing and single-key reads and writes of a project's configs. */
export function configRoutes(service: ConfigService, limits: { maxValueBytes: number }) {
  return new Hono<AuthEnv>()
    .get("/:project/manifest", async (c) => {
      const project = projectParam(c);
      const manifest = await service.read(consistencyParam(c, "linearizable"), () =>
        service.manifest(project),
      );
      setHeader(c, "X-Cfg-Revision", String(manifest.revision));
      return c.json(manifest);
    })
    .get("/:project/configs", async (c) => {
      const project = projectParam(c);
      const prefix = c.req.query("prefix") ?? "";
      const values = c.req.query("values") !== "false";
      const list = await service.read(consistencyParam(c, "linearizable"), () =>
        service.listConfigs(project, prefix, values),
      );
      setHeader(c, "X-Cfg-Revision", String(list.revision));
      return c.json(list);
    })
    .get("/:project/configs/:key{.+}", async (c) => {
      const project = projectParam(c);
      const key = keyParam(c);
      const revision = intQuery(c, "revision");
      const entry = await service.read(consistencyParam(c, "linearizable"), () =>
        service.getConfig(project, key, revision),
      );
      setHeader(c, "X-Cfg-Revision", String(entry.revision));
      setHeader(c, "ETag", etag(entry.version));
      const inm = requestHeader(c, "if-none-match");
      if (inm?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag(entry.version))) {
        return c.body(null, 304);
      }
      return c.json(entry);
    })
    .put("/:project/configs/:key{.+}", async (c) => {
      const project = projectParam(c);
      const key = keyParam(c);
      const value = await readJson<JsonValue>(c);
      checkValueSize(key, value, limits.maxValueBytes);
      const entry = await service.putKey(project, key, value, ifMatch(c), actorOf(c));
      setHeader(c, "ETag", etag(entry.version));
      setHeader(c, "X-Cfg-Revision", String(entry.revision));
      return c.body(entry.json, 200, { "content-type": "application/json" });
    })
    .delete("/:project/configs/:key{.+}", async (c) => {
      const project = projectParam(c);
      const key = keyParam(c);
      const result = await service.deleteKey(project, key, ifMatch(c), actorOf(c));
      setHeader(c, "X-Cfg-Revision", String(result.revision));
      return c.json(result);
    });
}
