import { ConfigClient } from "@cfguardian/client";
import type { ClusterView, WatchEvent } from "@cfguardian/shared";
import { keyProblem } from "@cfguardian/shared";
import type { Command } from "commander";
import { type Context, resolveToken } from "../context.js";
import { UsageError } from "../errors.js";
import { EXIT } from "../exit-codes.js";
import { parsePositiveInt, resolveProject } from "./shared.js";

export interface WatchCommandOptions {
  target?: string;
  project?: string;
  prefix?: string;
  fromRevision?: number;
  values?: boolean;
  count?: number;
}

function describeEvent(event: WatchEvent, key: string | undefined, values: boolean): string[] {
  return event.changes
    .filter((change) => key === undefined || change.key === key)
    .map((change) => {
      const value = values && change.op === "put" ? ` ${JSON.stringify(change.value)}` : "";
      return `${event.revision}\t${event.kind}\t${change.op} ${change.key} v${change.version}${value}\t${event.actor}`;
    });
}

/**
 * Print changes as they are applied: one line per changed key (tab-separated), or one JSON line
 * per revision with --output json. Follows every member of the cluster, so it goes on through a
 * node's restart or a change of leader, without gaps or repeats.
 */
export async function runWatch(
  key: string | undefined,
  options: WatchCommandOptions,
  context: Context,
): Promise<number> {
  if (key !== undefined && options.prefix !== undefined)
    throw new UsageError("give a KEY or --prefix, not both");
  if (key !== undefined) {
    const problem = keyProblem(key);
    if (problem) throw new UsageError(problem);
  }
  const { project, server } = resolveProject(context, options);
  const client = context.client(server);
  const token = (await resolveToken(context.globals, context.io.env, client.server)) ?? "";
  // Every member, so that the watch can move to another node when this one goes away.
  const nodes = [client.server];
  try {
    const view = await client.get<ClusterView>("/v1/cluster");
    for (const member of view.members) if (member.url && !nodes.includes(member.url)) nodes.push(member.url);
  } catch {
    // A node that cannot describe its cluster can still be watched alone.
  }
  const values = options.values === true;
  const reader = new ConfigClient({ nodes, apiKey: token, project });
  let seen = 0;
  return new Promise<number>((resolve) => {
    const finish = (code: number) => {
      watch.close();
      reader.close();
      resolve(code);
    };
    const watch = reader.watch({
      prefix: key ?? options.prefix,
      ...(options.fromRevision !== undefined ? { afterRevision: options.fromRevision - 1 } : {}),
      values: context.json || values,
      onEvent: (event) => {
        if (context.json) {
          const changes = key === undefined ? event.changes : event.changes.filter((c) => c.key === key);
          if (changes.length === 0) return;
          context.io.out(`${JSON.stringify({ ...event, changes })}\n`);
        } else {
          const lines = describeEvent(event, key, values);
          if (lines.length === 0) return;
          context.io.out(`${lines.join("\n")}\n`);
        }
        seen++;
        if (options.count !== undefined && seen >= options.count) finish(EXIT.ok);
      },
      onReset: (reset) => {
        context.warn(`${reset.message} (watch goes on after revision ${reset.revision})`);
        if (reset.reason === "deleted") finish(EXIT.error);
      },
      onError: (error, node) => {
        if (context.verbose) context.log(`watch: ${node}: ${error.message}; reconnecting`);
      },
    });
  });
}

export function register(program: Command, context: () => Context): void {
  program
    .command("watch")
    .argument("[key]", "only this key")
    .description("print changes of a project's configs as they are applied (Ctrl-C stops)")
    .option("--target <name>", "target from cfg.json (default: the only one)")
    .option("--project <name>", "watch this project instead of a target's")
    .option("--prefix <prefix>", "only keys starting with this")
    .option(
      "--from-revision <n>",
      "start with this revision (default: only new changes)",
      parsePositiveInt("--from-revision"),
    )
    .option("--values", "print the new values too")
    .option("--count <n>", "exit after this many changes", parsePositiveInt("--count"))
    .addHelpText(
      "after",
      "\nOutput: one line per changed key: REVISION<TAB>KIND<TAB>OP KEY vVERSION<TAB>ACTOR; with --output json one JSON\nobject per revision (its changes with their values).\n\nExamples:\n  $ cfg watch --project shop-prod --prefix services/\n  $ cfg watch services/api --target prod --output json",
    )
    .action(async (key: string | undefined, options: WatchCommandOptions) => {
      process.exitCode = await runWatch(key, options, context());
    });
}
