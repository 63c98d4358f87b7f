import type { Command } from "commander";
import type { Context } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { table } from "./history.js";
import { printJson } from "./shared.js";

interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  project: string | null;
  target: string | null;
  address: string | null;
  result: string;
  detail: string | null;
}

export interface AuditOptions {
  project?: string;
  actor?: string;
  limit?: string;
  before?: string;
}

export async function runAudit(options: AuditOptions, context: Context): Promise<number> {
  const list = await context.client().get<{ items: AuditRecord[]; next: number | null }>("/v1/audit", {
    query: {
      project: options.project,
      actor: options.actor,
      limit: options.limit ?? 50,
      before: options.before,
    },
  });
  if (context.json) printJson(context, list);
  else {
    const rows = [["SEQ", "TIME", "ACTOR", "ACTION", "PROJECT", "TARGET", "ADDRESS", "RESULT"]];
    for (const r of list.items) {
      rows.push([
        String(r.seq),
        r.at,
        r.actor,
        r.action,
        r.project ?? "",
        r.target ?? "",
        r.address ?? "",
        r.result === "ok" ? "ok" : `${r.result} ${r.detail ?? ""}`.trim(),
      ]);
    }
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("audit")
    .description("the audit log of every change, newest first (cluster admins)")
    .option("--project <name>", "only this project")
    .option("--actor <who>", "only this actor (an email, apikey:<id>, admin)")
    .option("--limit <n>", "at most this many (default 50)")
    .option("--before <seq>", "only records before this seq (paging)")
    .action(async (options: AuditOptions) => {
      process.exitCode = await runAudit(options, context());
    });
}
