import type { Command } from "commander";
import type { Context } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { printProblems } from "../output/problems.js";
import { loadRepoConfig, pickTarget } from "../repo/config-file.js";
import type { FileProblem } from "../repo/json-file.js";
import { loadLocalState } from "../repo/local-state.js";
import { printJson } from "./shared.js";

export interface ValidateOptions {
  target?: string;
}

export interface ValidateResult {
  ok: boolean;
  targets: { name: string; project: string; keys: number }[];
  problems: FileProblem[];
}

/** Check cfg.json, the schema files and every config of each target, offline. */
export async function runValidate(options: ValidateOptions, context: Context): Promise<ValidateResult> {
  const loaded = loadRepoConfig(context.globals.dir ?? context.io.cwd);
  if (!loaded.ok) return { ok: false, targets: [], problems: loaded.problems };
  const targets = options.target ? [pickTarget(loaded.config, options.target)] : loaded.config.targets;
  const problems: FileProblem[] = [];
  const seen = new Set<string>();
  const summary: ValidateResult["targets"] = [];
  for (const target of targets) {
    const local = await loadLocalState(loaded.config, target, context.io.cwd);
    for (const problem of local.problems) {
      // Schema problems are the same for every target: report each once.
      const id = `${problem.file}:${problem.line}:${problem.column}:${problem.message}`;
      if (!seen.has(id)) problems.push(problem);
      seen.add(id);
    }
    summary.push({ name: target.name, project: target.project, keys: local.configs.size });
  }
  return { ok: problems.length === 0, targets: summary, problems };
}

export function register(program: Command, context: () => Context): void {
  program
    .command("validate")
    .description("check cfg.json, schemas and every config file offline (JSON syntax, key names, schemas)")
    .option("--target <name>", "validate only this target (default: all targets)")
    .addHelpText("after", "\nExamples:\n  $ cfg validate\n  $ cfg validate --target prod --output json")
    .action(async (options: ValidateOptions) => {
      const ctx = context();
      const result = await runValidate(options, ctx);
      if (ctx.json) printJson(ctx, result);
      else {
        printProblems(ctx, result.problems);
        if (result.ok) {
          for (const t of result.targets)
            ctx.io.out(`${ctx.palette.green("✓")} ${t.name} (${t.project}): ${t.keys} configs valid\n`);
        } else {
          ctx.io.err(`${result.problems.length} problem${result.problems.length === 1 ? "" : "s"} found.\n`);
        }
      }
      process.exitCode = result.ok ? EXIT.ok : EXIT.error;
    });
}
