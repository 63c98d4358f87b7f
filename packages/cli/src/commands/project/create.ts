import { type ProjectInfo, projectNameProblem } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export async function runProjectCreate(name: string, context: Context): Promise<number> {
  const problem = projectNameProblem(name);
  if (problem) throw new UsageError(problem);
  const project = await context.client().post<ProjectInfo>("/v1/projects", { name });
  if (context.json) printJson(context, project);
  else context.io.out(`Created project ${project.name}.\n`);
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("create")
    .argument("<name>", "project name: lowercase letters, digits and '-'")
    .description("create a project")
    .action(async (name: string) => {
      process.exitCode = await runProjectCreate(name, context());
    });
}
