import type { Command } from "commander";
import type { Context, GlobalOptions } from "../context.js";
import { InterruptedError, LocalValidationError, UsageError } from "../errors.js";
import { printProblems } from "../output/problems.js";
import { loadRepoConfig, pickTarget, type RepoConfig, type TargetConfig } from "../repo/config-file.js";
import { type LocalState, loadLocalState } from "../repo/local-state.js";

/** What every command's action receives: its own options and the resolved context. */
export type Action<O> = (options: O, context: Context, command: Command) => Promise<number | undefined>;

export interface TargetOptions {
  target?: string;
}

/** Load cfg.json and pick the target; print every problem and stop if there is any. */
export function resolveTarget(
  context: Context,
  globals: GlobalOptions,
  targetName: string | undefined,
): { config: RepoConfig; target: TargetConfig } {
  const loaded = loadRepoConfig(globals.dir ?? context.io.cwd);
  if (!loaded.ok) {
    printProblems(context, loaded.problems);
    throw new LocalValidationError(loaded.problems.length);
  }
  return { config: loaded.config, target: pickTarget(loaded.config, targetName) };
}

/** Read and check one target's files; print every problem and stop if there is any. */
export async function scanTarget(
  context: Context,
  config: RepoConfig,
  target: TargetConfig,
): Promise<LocalState> {
  const local = await loadLocalState(config, target, context.io.cwd);
  if (local.problems.length > 0) {
    printProblems(context, local.problems);
    throw new LocalValidationError(local.problems.length);
  }
  return local;
}

/** Write one JSON document to stdout (the whole output of a command under --output json). */
export function printJson(context: Context, value: unknown): void {
  context.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

export function parsePositiveInt(name: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
    return value;
  };
}

export interface ProjectOptions {
  target?: string;
  project?: string;
}

/** The project a command acts on: --project, or the target's project from cfg.json. */
export function resolveProject(
  context: Context,
  options: ProjectOptions,
): { project: string; server?: string } {
  if (options.project) return { project: options.project };
  const loaded = loadRepoConfig(context.globals.dir ?? context.io.cwd);
  if (!loaded.ok) {
    printProblems(context, loaded.problems);
    throw new LocalValidationError(loaded.problems.length);
  }
  const target = pickTarget(loaded.config, options.target);
  return { project: target.project, ...(target.server ? { server: target.server } : {}) };
}

/** Ask before a change in a terminal; without one, demand --yes. */
export async function confirmOrRequireYes(
  context: Context,
  yes: boolean | undefined,
  question: string,
  command: string,
) {
  if (yes) return;
  if (!context.io.stdinIsTTY || !context.io.stdoutIsTTY) {
    throw new UsageError(
      `${command} changes the live store and needs --yes when not run in a terminal; nothing was sent.`,
    );
  }
  if (!(await context.io.confirm(question))) throw new InterruptedError();
}
