import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { keysPath } from "./api.js";

export async function runApiKeyRevoke(
  id: string,
  options: ProjectOptions,
  context: Context,
): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const result = await context.client(server).delete<{ revoked: string }>(keysPath(project, id));
  if (context.json) printJson(context, result);
  else context.io.out(`Revoked API key ${result.revoked}.\n`);
  return EXIT.ok;
}
