import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { projectNameProblem } from "@cfguardian/shared";
import type { Command } from "commander";
import { type Context, DEFAULT_SERVER } from "../context.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { CONFIG_FILE } from "../repo/config-file.js";
import { printJson } from "./shared.js";

export interface InitOptions {
  project?: string;
  server?: string;
  target?: string;
  configDir?: string;
}

export function runInit(options: InitOptions, context: Context): number {
  const root = resolve(context.globals.dir ?? context.io.cwd);
  const file = join(root, CONFIG_FILE);
  if (existsSync(file))
    throw new UsageError(`${file} already exists; edit it instead of running 'cfg init' again.`);
  const target = options.target ?? "default";
  const project =
    options.project ??
    root
      .split(/[\\/]/)
      .pop()!
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+/, "");
  const problem = projectNameProblem(project);
  if (problem) throw new UsageError(`${problem} (pass --project)`);
  const dir = options.configDir ?? `configs/${target}`;
  const config = {
    targets: {
      [target]: { server: options.server ?? context.globals.server ?? DEFAULT_SERVER, project, dir },
    },
    schemas: [],
  };
  mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { flag: "wx" });
  if (context.json) printJson(context, { file, ...config });
  else {
    context.io.out(`Wrote ${file} with target ${target} (project ${project}, configs in ${dir}/).\n`);
    context.io.out(`Next: add JSON files under ${dir}/, then run 'cfg validate' and 'cfg diff'.\n`);
  }
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("init")
    .description(`write a ${CONFIG_FILE} for this repository`)
    .option("--project <name>", "project of the first target (default: the directory's name)")
    .option("--target <name>", "name of the first target", "default")
    .option("--config-dir <path>", "directory of the target's configs (default: configs/<target>)")
    .addHelpText("after", "\nExamples:\n  $ cfg init --project shop-staging --target staging")
    .action(async (options: InitOptions) => {
      process.exitCode = runInit(options, context());
    });
}
