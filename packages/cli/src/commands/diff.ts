import type { Command } from "commander";
import type { Context } from "../context.js";
import { EXIT, setErrorExitOverride } from "../exit-codes.js";
import { renderPlan } from "../output/render-plan.js";
import { fetchManifest, makePlan, type Plan, planIsEmpty } from "../plan/plan.js";
import { printJson, resolveTarget, scanTarget } from "./shared.js";

export interface DiffOptions {
  target?: string;
  prune?: boolean;
  exitCode?: boolean;
}

export function planHeader(plan: Plan, targetName: string): string {
  return `Target ${targetName}: project ${plan.project} at ${plan.server} (revision ${plan.baseRevision})`;
}

/** JSON form of a plan (`cfg diff --output json`, `cfg push --dry-run --output json`). */
export function planJson(plan: Plan, targetName: string) {
  return {
    target: targetName,
    project: plan.project,
    server: plan.server,
    baseRevision: plan.baseRevision,
    changes: plan.changes.map((c) => ({
      op: c.op,
      key: c.key,
      fromVersion: c.fromVersion,
      diff: c.diff,
      ...(c.op === "add" ? { after: c.after } : {}),
      ...(c.op === "delete" ? { before: c.before } : {}),
    })),
    schemaChanges: plan.schemaChanges,
    kept: plan.kept,
    summary: plan.summary,
  };
}

export async function runDiff(options: DiffOptions, context: Context): Promise<number> {
  const { config, target } = resolveTarget(context, context.globals, options.target);
  const client = context.client(target.server);
  const manifest = fetchManifest(client, target.project);
  const local = await scanTarget(context, config, target);
  const plan = await makePlan(client, local, options.prune === true, manifest);
  if (context.json) printJson(context, planJson(plan, target.name));
  else if (planIsEmpty(plan)) {
    context.io.out(
      `No differences: ${plan.project} at revision ${plan.baseRevision} matches ${target.dir}.\n`,
    );
    if (plan.kept.length > 0) {
      context.io.out(
        `${plan.kept.length} live key(s) are not in the repository (use --prune to delete them).\n`,
      );
    }
  } else context.io.out(renderPlan(plan, context.palette, planHeader(plan, target.name)));
  if (options.exitCode && !planIsEmpty(plan)) return EXIT.differences;
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("diff")
    .description("show what a push would change: a structural diff per key against the live project")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("--prune", "also show live keys missing from the repository as deletions")
    .option("--exit-code", "exit 0 when there are no differences, 2 when there are, 1 on error")
    .addHelpText(
      "after",
      "\nExamples:\n  $ cfg diff --target staging\n  $ cfg diff --exit-code --output json",
    )
    .action(async (options: DiffOptions) => {
      const ctx = context();
      // With --exit-code the contract is 0 / 2 / 1: every error exits 1, whatever its kind.
      if (options.exitCode) setErrorExitOverride(EXIT.error);
      process.exitCode = await runDiff(options, ctx);
    });
}
