import { CfgError, type ChangeOp, type GitProvenance, type SchemaBinding } from "@cfguardian/shared";
import { Hono } from "hono";
import type { Principal } from "../../auth/authenticator.js";
import type { Role } from "../../metadata/port.js";
import type { ConfigService } from "../../services/config-service.js";
import { actorOf } from "../middleware/audit.js";
import type { AuthEnv } from "../middleware/auth.js";
import {
  checkValueSize,
  consistencyParam,
  intParam,
  intQuery,
  projectParam,
  readJson,
  requireObject,
} from "../request.js";
import { setHeader } from "../response.js";

function parseChanges(raw: unknown, maxValueBytes: number): ChangeOp[] {
  if (!Array.isArray(raw))
    throw new CfgError("bad_request", '"changes" must be an array of {op, key, value?}');
  return raw.map((item, i) => {
    const change = requireObject(item, `changes[${i}]`);
    if (typeof change.key !== "string") throw new CfgError("bad_request", `changes[${i}] needs "key"`);
    if (change.op === "delete") return { op: "delete", key: change.key };
    if (change.op !== "put") throw new CfgError("bad_request", `changes[${i}].op must be "put" or "delete"`);
    if (!("value" in change))
      throw new CfgError("bad_request", `changes[${i}] (put ${change.key}) needs "value"`);
    checkValueSize(change.key, change.value as never, maxValueBytes);
    return {
      op: "put",
      key: change.key,
      value: change.value as ChangeOp extends { value: infer V } ? V : never,
    };
  });
}

export function parseSchemas(raw: unknown): SchemaBinding[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw))
    throw new CfgError("bad_request", '"schemas" must be an array of {name, match, schema}');
  return raw.map((item, i) => {
    const binding = requireObject(item, `schemas[${i}]`);
    if (typeof binding.name !== "string" || typeof binding.match !== "string" || !("schema" in binding)) {
      throw new CfgError("bad_request", `schemas[${i}] needs "name", "match" and "schema"`);
    }
    return { name: binding.name, match: binding.match, schema: binding.schema as SchemaBinding["schema"] };
  });
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new CfgError("bad_request", `"${name}" must be a string`);
  return value;
}

function nonNegativeInt(value: unknown, name: string): number {
  if (!Number.isInteger(value) || (value as number) < 0) {
    throw new CfgError("bad_request", `"${name}" must be a non-negative integer`);
  }
  return value as number;
}

/**
 * Pushes (atomic change sets), their history, and rollback. `roleOf`: with roles, a push that
 * would change the schema set needs a project admin (editors push configs under the schemas).
 */
export function pushRoutes(
  service: ConfigService,
  limits: { maxValueBytes: number },
  roleOf?: (principal: Principal, project: string) => Promise<Role | null>,
) {
  return new Hono<AuthEnv>()
    .post("/:project/pushes", async (c) => {
      const project = projectParam(c);
      const body = requireObject(await readJson(c), "the push");
      const git =
        body.git === undefined || body.git === null
          ? null
          : (requireObject(body.git, '"git"') as GitProvenance);
      const request = {
        baseRevision: nonNegativeInt(body.baseRevision, "baseRevision"),
        changes: parseChanges(body.changes, limits.maxValueBytes),
        schemas: parseSchemas(body.schemas),
        git,
        message: optionalString(body.message, "message") ?? null,
        dryRun: body.dryRun === true,
      };
      const principal = c.get("principal");
      if (request.schemas && roleOf && !request.dryRun && (await roleOf(principal, project)) !== "admin") {
        const preview = await service.push(project, { ...request, dryRun: true }, actorOf(c));
        if (preview.schemasChanged) {
          throw new CfgError(
            "forbidden",
            `this push changes the schema set of ${project}, which needs the admin role; push the configs alone or ask a project admin`,
          );
        }
      }
      const result = await service.push(project, request, actorOf(c));
      setHeader(c, "X-Cfg-Revision", String(result.revision));
      return c.json(result);
    })
    .get("/:project/pushes", async (c) => {
      const project = projectParam(c);
      const limit = intQuery(c, "limit", { min: 1, max: 1000 }) ?? 50;
      const before = intQuery(c, "before", { min: 1 });
      const list = await service.read(consistencyParam(c, "linearizable"), () =>
        service.revisions(project, before, limit),
      );
      setHeader(c, "X-Cfg-Revision", String(list.revision));
      return c.json(list);
    })
    .get("/:project/pushes/:revision", async (c) => {
      const project = projectParam(c);
      const revision = intParam(c, "revision");
      return c.json(
        await service.read(consistencyParam(c, "linearizable"), () => service.revision(project, revision)),
      );
    })
    .post("/:project/rollback", async (c) => {
      const project = projectParam(c);
      const body = requireObject(await readJson(c), "the rollback");
      let keys: string[] | undefined;
      if (body.keys !== undefined) {
        if (!Array.isArray(body.keys) || !body.keys.every((k) => typeof k === "string")) {
          throw new CfgError("bad_request", '"keys" must be an array of key names');
        }
        keys = body.keys as string[];
      }
      const request = {
        toRevision: nonNegativeInt(body.toRevision, "toRevision"),
        ...(keys ? { keys } : {}),
        ...(body.baseRevision !== undefined
          ? { baseRevision: nonNegativeInt(body.baseRevision, "baseRevision") }
          : {}),
        ...(optionalString(body.message, "message") ? { message: body.message as string } : {}),
        dryRun: body.dryRun === true,
      };
      const principal = c.get("principal");
      // A whole-project rollback restores the schema set too: that part needs a project admin.
      if (!keys && roleOf && !request.dryRun && (await roleOf(principal, project)) !== "admin") {
        const preview = await service.rollback(project, { ...request, dryRun: true }, actorOf(c));
        if (preview.schemasChanged) {
          throw new CfgError(
            "forbidden",
            `this rollback restores another schema set of ${project}, which needs the admin role; roll back keys (--keys) or ask a project admin`,
          );
        }
      }
      const result = await service.rollback(project, request, actorOf(c));
      setHeader(c, "X-Cfg-Revision", String(result.revision));
      return c.json(result);
    });
}
