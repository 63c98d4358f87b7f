import type { PushRequest, PushResult } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { projectPath } from "../http/client.js";
import { renderPlan } from "../output/render-plan.js";
import { fetchManifest, makePlan, planIsEmpty, planToChanges } from "../plan/plan.js";
import { readGitState } from "../repo/git.js";
import { planHeader, planJson } from "./diff.js";
import { confirmOrRequireYes, printJson, resolveTarget, scanTarget } from "./shared.js";

export interface PushOptions {
  target?: string;
  yes?: boolean;
  dryRun?: boolean;
  prune?: boolean;
  allowDirty?: boolean;
  message?: string;
}

/** Validate, plan, show, confirm, then send one atomic push with git provenance. */
export async function runPush(options: PushOptions, context: Context): Promise<number> {
  const { config, target } = resolveTarget(context, context.globals, options.target);
  const client = context.client(target.server);
  // git (another process) and the server work while the files are read here.
  const gitAsked = readGitState(config.root);
  const manifest = fetchManifest(client, target.project);
  const local = await scanTarget(context, config, target);
  const git = await gitAsked;
  if (!git) context.warn(`${config.root} is not in a git work tree; the push will carry no git provenance.`);
  else if (git.dirtyPaths.length > 0 && !options.allowDirty) {
    const shown = git.dirtyPaths.slice(0, 10).join(", ") + (git.dirtyPaths.length > 10 ? ", …" : "");
    throw new UsageError(
      `the working tree has uncommitted changes (${shown}). Commit them so the push records what was pushed, or pass --allow-dirty.`,
    );
  }
  const plan = await makePlan(client, local, options.prune === true, manifest);
  if (planIsEmpty(plan)) {
    if (context.json)
      printJson(context, { ...planJson(plan, target.name), applied: false, revision: plan.baseRevision });
    else context.io.out(`No changes. ${plan.project} is up to date at revision ${plan.baseRevision}.\n`);
    return EXIT.ok;
  }
  if (!context.json) context.io.out(renderPlan(plan, context.palette, planHeader(plan, target.name)));
  const count = plan.changes.length + plan.schemaChanges.length;
  const body: PushRequest = {
    baseRevision: plan.baseRevision,
    changes: planToChanges(plan, local),
    schemas: local.schemas.map(({ name, match, schema }) => ({ name, match, schema })),
    git: git?.provenance ?? undefined,
    ...((options.message ?? git?.provenance.message)
      ? { message: options.message ?? git?.provenance.message ?? "" }
      : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  };
  if (!options.dryRun) {
    await confirmOrRequireYes(
      context,
      options.yes,
      `Push ${count} change${count === 1 ? "" : "s"} to ${plan.project} at ${plan.server}?`,
      "cfg push",
    );
  }
  const result = await client.post<PushResult>(projectPath(plan.project, "pushes"), body);
  if (context.json) printJson(context, result);
  else if (result.dryRun) {
    context.io.out(
      `Dry run: ${plan.project} would accept these changes at revision ${result.previousRevision}; nothing was applied.\n`,
    );
  } else if (!result.applied) {
    context.io.out(`No changes. ${plan.project} is up to date at revision ${result.revision}.\n`);
  } else {
    const n = result.changes.length;
    context.io.out(
      `${context.palette.green("Pushed")} revision ${result.revision} to ${plan.project} (${n} key change${n === 1 ? "" : "s"}${result.schemasChanged ? ", schemas updated" : ""}).\n`,
    );
  }
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("push")
    .description("validate, show the plan, and apply it as one atomic revision with git provenance")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("-y, --yes", "do not ask for confirmation (required when not in a terminal)")
    .option("--dry-run", "have the server check the push and show the plan; apply nothing")
    .option("--prune", "delete live keys that are missing from the repository")
    .option("--allow-dirty", "push even if the git working tree has uncommitted changes")
    .option("-m, --message <text>", "revision message (default: the git commit subject)")
    .addHelpText(
      "after",
      "\nExamples:\n  $ cfg push --target staging\n  $ cfg push --target prod --yes --prune",
    )
    .action(async (options: PushOptions) => {
      process.exitCode = await runPush(options, context());
    });
}
