import {
  jsonDiff,
  type PlannedChange,
  type ProjectInfo,
  type PushResult,
  type RollbackRequest,
} from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { projectPath } from "../http/client.js";
import type { Palette } from "../output/palette.js";
import { renderJsonChanges } from "../output/render-plan.js";
import { confirmOrRequireYes, parsePositiveInt, printJson, resolveProject } from "./shared.js";

export interface RollbackOptions {
  target?: string;
  project?: string;
  to?: number;
  keys?: string;
  yes?: boolean;
  dryRun?: boolean;
  message?: string;
}

/** The changes a rollback makes, shown like a plan. */
export function renderPlannedChanges(changes: PlannedChange[], p: Palette): string[] {
  const lines: string[] = [];
  for (const change of changes) {
    if (change.op === "delete")
      lines.push(p.red(`- ${change.key}`) + p.dim(`  (version ${change.fromVersion}, deleted)`));
    else if (change.fromVersion === 0) {
      lines.push(p.green(`+ ${change.key}`) + p.dim("  (restored)"));
      lines.push(
        ...JSON.stringify(change.after, null, 2)
          .split("\n")
          .map((l) => p.green(`    ${l}`)),
      );
    } else {
      lines.push(p.yellow(`~ ${change.key}`) + p.dim(`  (version ${change.fromVersion})`));
      lines.push(...renderJsonChanges(jsonDiff(change.before ?? null, change.after ?? null), p));
    }
  }
  return lines;
}

export async function runRollback(options: RollbackOptions, context: Context): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const client = context.client(server);
  const info = await client.get<ProjectInfo>(projectPath(project));
  const toRevision = options.to ?? info.revision - 1;
  if (info.revision === 0)
    throw new UsageError(`${project} has no revisions yet; there is nothing to roll back.`);
  if (toRevision < 0 || toRevision >= info.revision) {
    throw new UsageError(
      `--to must be an earlier revision of ${project}: 0 to ${info.revision - 1} (it is at ${info.revision}).`,
    );
  }
  const keys = options.keys
    ? options.keys
        .split(",")
        .map((k) => k.trim())
        .filter(Boolean)
    : undefined;
  const request: RollbackRequest = {
    toRevision,
    ...(keys ? { keys } : {}),
    ...(options.message ? { message: options.message } : {}),
  };
  const preview = await client.post<PushResult>(projectPath(project, "rollback"), {
    ...request,
    dryRun: true,
  });
  if (preview.changes.length === 0 && !preview.schemasChanged) {
    if (context.json) printJson(context, preview);
    else
      context.io.out(
        `Nothing to roll back: ${project} at revision ${preview.previousRevision} already has the content of revision ${toRevision}.\n`,
      );
    return EXIT.ok;
  }
  if (!context.json) {
    const p = context.palette;
    const lines = [
      p.bold(
        `Roll back ${project} at ${client.server} from revision ${preview.previousRevision} to the content of revision ${toRevision}:`,
      ),
      "",
      ...renderPlannedChanges(preview.changes, p),
      ...(preview.schemasChanged ? [p.yellow("~ schemas restored as of that revision")] : []),
      "",
    ];
    context.io.out(`${lines.join("\n")}\n`);
  }
  if (options.dryRun) {
    if (context.json) printJson(context, preview);
    else context.io.out("Dry run: nothing was applied.\n");
    return EXIT.ok;
  }
  await confirmOrRequireYes(
    context,
    options.yes,
    `Apply this rollback to ${project} as a new revision?`,
    "cfg rollback",
  );
  const result = await client.post<PushResult>(projectPath(project, "rollback"), {
    ...request,
    baseRevision: preview.previousRevision,
  });
  if (context.json) printJson(context, result);
  else
    context.io.out(
      `${context.palette.green("Rolled back")} ${project} to the content of revision ${toRevision} as new revision ${result.revision}.\n`,
    );
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("rollback")
    .description("restore the content of an earlier revision, as a new revision (history is never rewritten)")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("--project <name>", "act on this project instead of a target's")
    .option(
      "--to <revision>",
      "revision whose content to restore (default: the one before the current)",
      parsePositiveInt("--to"),
    )
    .option("--keys <k1,k2>", "restore only these keys (default: the whole project, schemas included)")
    .option("-y, --yes", "do not ask for confirmation (required when not in a terminal)")
    .option("--dry-run", "show what would change; apply nothing")
    .option("-m, --message <text>", "revision message")
    .addHelpText(
      "after",
      "\nExamples:\n  $ cfg rollback --target prod\n  $ cfg rollback --to 12 --keys services/api --yes",
    )
    .action(async (options: RollbackOptions) => {
      process.exitCode = await runRollback(options, context());
    });
}
