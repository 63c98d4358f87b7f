import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { type ProjectOptions, printJson, resolveProject } from "../shared.js";
import { type ApiKey, keysPath } from "./api.js";

export async function runApiKeyCreate(
  name: string,
  options: ProjectOptions,
  context: Context,
): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const key = await context.client(server).post<ApiKey & { key: string }>(keysPath(project), { name });
  if (context.json) printJson(context, key);
  else {
    context.io.out(`${key.key}\n`);
    context.log(`API key ${key.name} (${key.id}) reads ${project} only. It is shown once: store it now.`);
  }
  return EXIT.ok;
}
