import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { membersPath } from "./api.js";

export async function runMemberRemove(
  user: string,
  options: ProjectOptions,
  context: Context,
): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const result = await context.client(server).delete<unknown>(membersPath(project, user));
  if (context.json) printJson(context, result);
  else context.io.out(`${user} is no longer a member of ${project}.\n`);
  return EXIT.ok;
}
