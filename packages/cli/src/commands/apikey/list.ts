import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { type ApiKey, keysPath } from "./api.js";

export async function runApiKeyList(options: ProjectOptions, context: Context): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const list = await context.client(server).get<{ items: ApiKey[] }>(keysPath(project));
  if (context.json) printJson(context, list);
  else {
    const rows = [["ID", "NAME", "CREATED", "LAST USED", "REVOKED"]];
    for (const k of list.items)
      rows.push([k.id, k.name, k.createdAt, k.lastUsedAt ?? "never", k.revokedAt ?? ""]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}
