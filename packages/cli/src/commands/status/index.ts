import { type Command, InvalidArgumentError } from "commander";
import { type Context, resolveToken } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { loadRepoConfig, pickTarget } from "../../repo/config-file.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";
import { StatusCollector, type StatusReport } from "./collect.js";
import { headline, MEMBER_COLUMNS, memberCells, PUSH_COLUMNS, pushCells } from "./format.js";

export interface StatusOptions {
  target?: string;
  project?: string;
  interval?: number;
  once?: boolean;
}

/** The project whose pushes to show: --project, --target, or the repository's only target. */
function pickProject(options: StatusOptions, context: Context): { project: string | null; server?: string } {
  if (options.project) return { project: options.project };
  let loaded: ReturnType<typeof loadRepoConfig> | undefined;
  try {
    loaded = loadRepoConfig(context.globals.dir ?? context.io.cwd);
  } catch (error) {
    if (options.target) throw error;
    return { project: null }; // not in a repository: no pushes to show
  }
  if (!loaded.ok) {
    if (options.target) throw new Error(`--target ${options.target}: no readable cfg.json here`);
    return { project: null };
  }
  if (!options.target && loaded.config.targets.length !== 1) return { project: null };
  const target = pickTarget(loaded.config, options.target);
  return { project: target.project, ...(target.server ? { server: target.server } : {}) };
}

export function renderText(report: StatusReport): string {
  let text = `${headline(report)}\n\n${table([MEMBER_COLUMNS, ...report.members.map(memberCells)])}\n`;
  if (report.project) {
    text += `\nLatest pushes of ${report.project}\n`;
    text += report.pushes?.length
      ? `${table([PUSH_COLUMNS, ...report.pushes.map(pushCells)])}\n`
      : `${report.pushes ? "no pushes yet" : "not readable now"}\n`;
  }
  for (const problem of report.problems) text += `${problem}\n`;
  return text;
}

export async function runStatus(options: StatusOptions, context: Context): Promise<number> {
  const { project, server } = pickProject(options, context);
  const url = context.client(server).server;
  const collector = new StatusCollector({
    server: url,
    token: (await resolveToken(context.globals, context.io.env, url)) ?? "",
    project,
  });
  try {
    const live = context.io.stdoutIsTTY && context.io.stdinIsTTY && !context.json && !options.once;
    if (live) {
      const { runLive } = await import("./live.js");
      await runLive(() => collector.collect(), (options.interval ?? 1) * 1000);
      return EXIT.ok;
    }
    const report = await collector.collect(context.io.now());
    if (context.json) printJson(context, report);
    else context.io.out(renderText(report));
    if (report.members.length === 0) return EXIT.unavailable;
    // Like `etcdctl endpoint health`: a cluster without a leader is a failure scripts must see.
    return report.leader ? EXIT.ok : EXIT.error;
  } finally {
    await collector.close();
  }
}

export function register(program: Command, context: () => Context): void {
  program
    .command("status")
    .description("live view of the cluster: members, roles, indexes, lag, health, and the latest pushes")
    .option("--target <name>", "show the latest pushes of this cfg.json target (default: the only one)")
    .option("--project <name>", "show the latest pushes of this project")
    .option("--interval <seconds>", "seconds between refreshes", (raw) => {
      const value = Number(raw);
      if (!(value >= 0.2 && value <= 60))
        throw new InvalidArgumentError("must be between 0.2 and 60 seconds");
      return value;
    })
    .option("--once", "print once and exit (also without a terminal or with --output json)")
    .addHelpText(
      "after",
      "\nIn a terminal the view refreshes until you press q (r refreshes now). Otherwise it prints once\nand exits 1 when the cluster has no leader, 5 when no member answers.",
    )
    .action(async (options: StatusOptions) => {
      process.exitCode = await runStatus(options, context());
    });
}
