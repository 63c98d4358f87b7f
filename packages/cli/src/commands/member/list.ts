import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { membersPath } from "./api.js";

export async function runMemberList(options: ProjectOptions, context: Context): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const list = await context
    .client(server)
    .get<{ items: { userId: string; email: string; role: string }[] }>(membersPath(project));
  if (context.json) printJson(context, list);
  else {
    const rows = [["EMAIL", "ROLE", "USER ID"]];
    for (const m of list.items) rows.push([m.email, m.role, m.userId]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}
