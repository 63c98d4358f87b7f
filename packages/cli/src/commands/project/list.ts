import type { ProjectList } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";

export async function runProjectList(context: Context): Promise<number> {
  const list = await context.client().get<ProjectList>("/v1/projects");
  if (context.json) printJson(context, list);
  else if (list.items.length === 0)
    context.io.out("No projects yet. Create one with: cfg project create NAME\n");
  else {
    const rows = [["NAME", "REVISION", "KEYS", "CREATED"]];
    for (const p of list.items) rows.push([p.name, String(p.revision), String(p.keyCount), p.createdAt]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("list")
    .description("list projects")
    .action(async () => {
      process.exitCode = await runProjectList(context());
    });
}
