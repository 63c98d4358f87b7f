import type { RevisionList, RevisionRecord } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { projectPath } from "../http/client.js";
import { parsePositiveInt, printJson, resolveProject } from "./shared.js";

export interface HistoryOptions {
  target?: string;
  project?: string;
  limit?: number;
}

export function relativeTime(then: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

function describe(record: RevisionRecord): string {
  if (record.kind === "rollback")
    return `rollback to ${record.rollbackTo}${record.message ? `: ${record.message}` : ""}`;
  return record.message ?? record.git?.message ?? "";
}

/** A fixed-width table, widths from the content. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  "),
    )
    .join("\n");
}

export async function runHistory(options: HistoryOptions, context: Context): Promise<number> {
  const { project, server } = resolveProject(context, options);
  const client = context.client(server);
  const list = await client.get<RevisionList>(projectPath(project, "pushes"), {
    query: { limit: options.limit ?? 20 },
  });
  if (context.json) {
    printJson(context, list);
    return EXIT.ok;
  }
  if (list.items.length === 0) {
    context.io.out(`${project} has no revisions yet. Push with: cfg push\n`);
    return EXIT.ok;
  }
  const now = context.io.now();
  const rows = [["REV", "WHEN", "KIND", "ACTOR", "COMMIT", "CHANGES", "MESSAGE"]];
  for (const r of list.items) {
    const commit = r.git?.commit
      ? `${r.git.commit.slice(0, 8)}${r.git.branch ? ` (${r.git.branch})` : ""}${r.git.dirty ? "*" : ""}`
      : "-";
    rows.push([
      String(r.revision),
      relativeTime(new Date(r.createdAt), now),
      r.kind,
      r.actor,
      commit,
      String(r.changes.length) + (r.schemasChanged ? "+s" : ""),
      describe(r).split("\n")[0]!.slice(0, 72),
    ]);
  }
  const text = table(rows).split("\n");
  context.io.out(
    `${context.io.stdoutIsTTY ? context.palette.bold(text[0]!) : text[0]}\n${text.slice(1).join("\n")}\n`,
  );
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("history")
    .description("list a project's revisions, newest first, with their git provenance")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("--project <name>", "list this project instead of a target's")
    .option("--limit <n>", "how many revisions (default 20)", parsePositiveInt("--limit"))
    .addHelpText(
      "after",
      "\nExamples:\n  $ cfg history --target prod\n  $ cfg history --project shop-prod --output json",
    )
    .action(async (options: HistoryOptions) => {
      process.exitCode = await runHistory(options, context());
    });
}
