import { type ConfigEntry, keyProblem } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { projectPath } from "../http/client.js";
import { parsePositiveInt, printJson, resolveProject } from "./shared.js";

export interface GetOptions {
  target?: string;
  project?: string;
  revision?: number;
}

export async function runGet(key: string, options: GetOptions, context: Context): Promise<number> {
  const problem = keyProblem(key);
  if (problem) throw new UsageError(problem);
  const { project, server } = resolveProject(context, options);
  const entry = await context
    .client(server)
    .get<ConfigEntry>(projectPath(project, "configs", key), { query: { revision: options.revision } });
  if (context.json) printJson(context, entry);
  else {
    context.io.err(
      context.palette.dim(`# ${project}/${key} version ${entry.version} (revision ${entry.revision})\n`),
    );
    context.io.out(`${JSON.stringify(entry.value, null, 2)}\n`);
  }
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("get")
    .argument("<key>", "the key, e.g. services/api")
    .description("print a config's live value (or its value at an earlier revision)")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("--project <name>", "read from this project instead of a target's")
    .option("--revision <n>", "the value as of this revision", parsePositiveInt("--revision"))
    .addHelpText(
      "after",
      "\nExamples:\n  $ cfg get services/api --target prod\n  $ cfg get services/api --revision 3 --output json",
    )
    .action(async (key: string, options: GetOptions) => {
      process.exitCode = await runGet(key, options, context());
    });
}
