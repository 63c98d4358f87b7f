import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { membersPath, ROLES } from "./api.js";

export async function runMemberSet(
  user: string,
  role: string,
  options: ProjectOptions,
  context: Context,
): Promise<number> {
  if (!ROLES.includes(role)) throw new UsageError(`role must be one of ${ROLES.join(", ")}`);
  const { project, server } = resolveProject(context, options);
  const result = await context
    .client(server)
    .call<unknown>("PUT", membersPath(project, user), { body: { role } });
  if (context.json) printJson(context, result.body);
  else context.io.out(`${user} is now ${role} of ${project}.\n`);
  return EXIT.ok;
}
