import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { keyGlobProblem, projectNameProblem, schemaNameProblem } from "@cfguardian/shared";
import { UsageError } from "../errors.js";
import { type FileProblem, parseJsonFile } from "./json-file.js";

export const CONFIG_FILE = "cfg.json";

export interface TargetConfig {
  name: string;
  server?: string;
  project: string;
  /** Directory of the target's config files, relative to the repository root. */
  dir: string;
}

export interface SchemaRef {
  name: string;
  match: string;
  /** Schema file, relative to the repository root. */
  file: string;
}

/** A loaded, checked `cfg.json`. */
export interface RepoConfig {
  /** Absolute directory holding cfg.json. */
  root: string;
  file: string;
  targets: TargetConfig[];
  schemas: SchemaRef[];
}

/** Find cfg.json in `start` or the closest parent directory, like git finds .git. */
export function findConfigFile(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export type LoadResult =
  | { ok: true; config: RepoConfig }
  | { ok: false; file: string; problems: FileProblem[] };

/** Load and check cfg.json; every problem is reported with its location. */
export function loadRepoConfig(start: string): LoadResult {
  const file = findConfigFile(start);
  if (!file) {
    throw new UsageError(
      `no ${CONFIG_FILE} found in ${resolve(start)} or any parent directory. Run 'cfg init' to create one, or pass -C/--dir.`,
    );
  }
  const text = readFileSync(file, "utf8");
  const display = relative(process.cwd(), file) || file;
  const parsed = parseJsonFile(text, display);
  if (!parsed.ok) return { ok: false, file, problems: parsed.problems };
  const problems: FileProblem[] = [];
  const at = (message: string) => problems.push({ file: display, line: 1, column: 1, message });
  const raw = parsed.value as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    at(`${CONFIG_FILE} must be a JSON object with "targets" (and optionally "schemas")`);
    return { ok: false, file, problems };
  }
  const root = dirname(file);
  const targets: TargetConfig[] = [];
  const rawTargets = raw.targets;
  if (typeof rawTargets !== "object" || rawTargets === null || Array.isArray(rawTargets)) {
    at(`"targets" must be an object mapping target names to {"project", "dir", "server"}`);
  } else {
    for (const [name, value] of Object.entries(rawTargets as Record<string, unknown>)) {
      const target = value as Partial<TargetConfig> | null;
      if (typeof target !== "object" || target === null) {
        at(`target "${name}" must be an object with "project" and "dir"`);
        continue;
      }
      if (typeof target.project !== "string") at(`target "${name}" needs "project" (a project name)`);
      else {
        const problem = projectNameProblem(target.project);
        if (problem) at(`target "${name}": ${problem}`);
      }
      if (typeof target.dir !== "string" || target.dir === "")
        at(`target "${name}" needs "dir" (its configs directory)`);
      else if (isAbsolute(target.dir) || target.dir.split(/[\\/]/).includes(".."))
        at(`target "${name}": "dir" must be a path inside the repository`);
      if (
        target.server !== undefined &&
        (typeof target.server !== "string" || !/^https?:\/\//.test(target.server))
      )
        at(`target "${name}": "server" must be an http:// or https:// URL`);
      if (typeof target.project === "string" && typeof target.dir === "string") {
        targets.push({
          name,
          project: target.project,
          dir: target.dir,
          ...(target.server ? { server: target.server } : {}),
        });
      }
    }
    if (Object.keys(rawTargets).length === 0) at(`"targets" is empty; add at least one target`);
  }
  const schemas: SchemaRef[] = [];
  if (raw.schemas !== undefined) {
    if (!Array.isArray(raw.schemas)) at(`"schemas" must be an array of {"name", "match", "file"}`);
    else {
      for (const [index, value] of raw.schemas.entries()) {
        const ref = value as Partial<SchemaRef> | null;
        const label = `schemas[${index}]`;
        if (typeof ref !== "object" || ref === null) {
          at(`${label} must be an object with "name", "match" and "file"`);
          continue;
        }
        if (typeof ref.name !== "string") at(`${label} needs "name"`);
        else if (schemaNameProblem(ref.name)) at(`${label}: ${schemaNameProblem(ref.name)}`);
        if (typeof ref.match !== "string")
          at(`${label} needs "match" (a glob over keys, e.g. "services/**")`);
        else if (keyGlobProblem(ref.match)) at(`${label}: ${keyGlobProblem(ref.match)}`);
        if (typeof ref.file !== "string") at(`${label} needs "file" (path of the schema file)`);
        else if (!existsSync(join(root, ref.file))) at(`${label}: schema file ${ref.file} does not exist`);
        if (typeof ref.name === "string" && typeof ref.match === "string" && typeof ref.file === "string") {
          if (schemas.some((s) => s.name === ref.name))
            at(`${label}: schema name "${ref.name}" is used twice`);
          schemas.push({ name: ref.name, match: ref.match, file: ref.file });
        }
      }
    }
  }
  if (problems.length > 0) return { ok: false, file, problems };
  return { ok: true, config: { root, file, targets, schemas } };
}

/** The target a command works on: the named one, or the only one. */
export function pickTarget(config: RepoConfig, name: string | undefined): TargetConfig {
  const names = config.targets.map((t) => t.name).join(", ");
  if (name !== undefined) {
    const found = config.targets.find((t) => t.name === name);
    if (!found) throw new UsageError(`no target "${name}" in ${CONFIG_FILE}; targets: ${names}`);
    return found;
  }
  if (config.targets.length === 1) return config.targets[0]!;
  throw new UsageError(`${CONFIG_FILE} has several targets (${names}); choose one with --target`);
}
