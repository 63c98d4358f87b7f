import { projectNameProblem } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { projectPath } from "../../http/client.js";
import { confirmOrRequireYes, printJson } from "../shared.js";

export async function runProjectDelete(
  name: string,
  options: { yes?: boolean },
  context: Context,
): Promise<number> {
  const problem = projectNameProblem(name);
  if (problem) throw new UsageError(problem);
  const client = context.client();
  await confirmOrRequireYes(
    context,
    options.yes,
    `Delete project ${name} at ${client.server} with all its configs and history?`,
    "cfg project delete",
  );
  await client.delete(projectPath(name));
  if (context.json) printJson(context, { deleted: name });
  else context.io.out(`Deleted project ${name}.\n`);
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("delete")
    .argument("<name>", "project name")
    .description("delete a project with all its configs and history")
    .option("-y, --yes", "do not ask for confirmation (required when not in a terminal)")
    .action(async (name: string, options: { yes?: boolean }) => {
      process.exitCode = await runProjectDelete(name, options, context());
    });
}
