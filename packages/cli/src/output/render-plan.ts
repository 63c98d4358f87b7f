import type { JsonChange, JsonValue } from "@cfguardian/shared";
import type { Plan } from "../plan/plan.js";
import type { Palette } from "./palette.js";

const MAX_INLINE = 80;

function inline(value: JsonValue | undefined): string {
  const text = JSON.stringify(value);
  return text.length > MAX_INLINE ? `${text.slice(0, MAX_INLINE - 1)}…` : text;
}

function block(value: JsonValue | undefined, prefix: string, paint: (s: string) => string): string[] {
  return JSON.stringify(value, null, 2)
    .split("\n")
    .map((line) => paint(`${prefix}${line}`));
}

/** Lines describing one document's structural changes, one per JSON pointer. */
export function renderJsonChanges(changes: JsonChange[], p: Palette, indent = "    "): string[] {
  return changes.map((change) => {
    const path = change.path || "(document)";
    if (change.op === "add") return p.green(`${indent}+ ${path}: ${inline(change.after)}`);
    if (change.op === "remove") return p.red(`${indent}- ${path}: ${inline(change.before)}`);
    return `${indent}${p.yellow("~")} ${path}: ${p.red(inline(change.before))} ${p.dim("->")} ${p.green(inline(change.after))}`;
  });
}

export function renderSummary(plan: Plan): string {
  const { add, change, delete: remove } = plan.summary;
  const schemas = plan.schemaChanges.length;
  return `Plan: ${add} to add, ${change} to change, ${remove} to delete${schemas ? `, ${schemas} schema change${schemas === 1 ? "" : "s"}` : ""}.`;
}

/** A terraform-like, coloured rendering of a plan. */
export function renderPlan(plan: Plan, p: Palette, header: string): string {
  const lines: string[] = [p.bold(header), ""];
  for (const change of plan.changes) {
    if (change.op === "add") {
      lines.push(p.green(`+ ${change.key}`) + p.dim("  (new key)"));
      lines.push(...block(change.after, "    ", p.green));
    } else if (change.op === "delete") {
      lines.push(p.red(`- ${change.key}`) + p.dim(`  (version ${change.fromVersion}, deleted with --prune)`));
    } else {
      lines.push(p.yellow(`~ ${change.key}`) + p.dim(`  (version ${change.fromVersion})`));
      lines.push(...renderJsonChanges(change.diff, p));
    }
  }
  for (const schema of plan.schemaChanges) {
    const mark = schema.op === "add" ? p.green("+") : schema.op === "delete" ? p.red("-") : p.yellow("~");
    lines.push(`${mark} schema ${schema.name}${p.dim(`  (match ${schema.match})`)}`);
  }
  if (plan.kept.length > 0) {
    const shown =
      plan.kept.slice(0, 10).join(", ") + (plan.kept.length > 10 ? `, … (${plan.kept.length} in all)` : "");
    lines.push("", p.dim(`Not in the repository, kept (use --prune to delete): ${shown}`));
  }
  lines.push("", renderSummary(plan));
  return `${lines.join("\n")}\n`;
}
