import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import {
  canonicalize,
  contentHash,
  type JsonValue,
  keyFromRelativePath,
  keyProblem,
  type SchemaBinding,
} from "@cfguardian/shared";
import type { RepoConfig, TargetConfig } from "./config-file.js";
import { type FileProblem, locatePointer, parseJsonFile } from "./json-file.js";

export interface LocalConfig {
  key: string;
  /** Path relative to the working directory, for messages. */
  file: string;
  value: JsonValue;
  sha256: string;
  text: string;
}

export interface LocalSchema extends SchemaBinding {
  file: string;
  sha256: string;
}

/** What a target's directory holds, checked: configs by key, schemas, and every problem found. */
export interface LocalState {
  target: TargetConfig;
  configs: Map<string, LocalConfig>;
  schemas: LocalSchema[];
  problems: FileProblem[];
}

/** Hash of a schema binding as the server computes it for the manifest. */
export function schemaHash(binding: SchemaBinding): string {
  return contentHash({ name: binding.name, match: binding.match, schema: binding.schema });
}

/** The `.json` files under `dir`, as sorted paths relative to it (hidden entries skipped). */
function listJsonFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string, prefix: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = prefix + entry.name;
      if (entry.isDirectory()) walk(join(current, entry.name), path + sep);
      else if (entry.isFile() && entry.name.endsWith(".json")) out.push(path);
    }
  };
  walk(dir, "");
  return out.sort();
}

/** ajv is loaded only by commands that validate, so the others start fast. */
const schemaValidation = () => import("@cfguardian/shared/schema-validation");

/** Load and parse the repository's schema files (shared by every target). */
export async function loadSchemas(
  config: RepoConfig,
  cwd: string,
): Promise<{ schemas: LocalSchema[]; problems: FileProblem[] }> {
  const { checkSchemaSet } = await schemaValidation();
  const schemas: LocalSchema[] = [];
  const problems: FileProblem[] = [];
  for (const ref of config.schemas) {
    const full = join(config.root, ref.file);
    const display = relative(cwd, full) || full;
    const parsed = parseJsonFile(readFileSync(full, "utf8"), display);
    if (!parsed.ok) {
      problems.push(...parsed.problems);
      continue;
    }
    const binding = { name: ref.name, match: ref.match, schema: parsed.value };
    schemas.push({ ...binding, file: display, sha256: schemaHash(binding) });
  }
  for (const issue of checkSchemaSet(schemas)) {
    const file = schemas.find((s) => s.name === issue.schema)?.file ?? relative(cwd, config.file);
    problems.push({ file, line: 1, column: 1, message: `schema ${issue.schema}: ${issue.message}` });
  }
  return { schemas, problems };
}

/**
 * Read a target's directory: every `.json` file becomes a key; JSON syntax, key names and the
 * schemas bound to each key are checked, and every problem is collected (none stops the scan).
 */
export async function loadLocalState(
  config: RepoConfig,
  target: TargetConfig,
  cwd: string,
): Promise<LocalState> {
  const { schemas, problems } = await loadSchemas(config, cwd);
  const { compileSchemaSet } = await schemaValidation();
  const configs = new Map<string, LocalConfig>();
  const dir = join(config.root, target.dir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    problems.push({
      file: relative(cwd, config.file) || config.file,
      line: 1,
      column: 1,
      message: `target "${target.name}": directory ${target.dir} does not exist; create it or fix "dir"`,
    });
    return { target, configs, schemas, problems };
  }
  const compiled = problems.length === 0 ? compileSchemaSet(schemas) : null;
  // Paths are joined as text: path.relative for each of 10,000 files was a tenth of a diff.
  const shown = relative(cwd, dir);
  const paths = listJsonFiles(dir);
  for (let i = 0; i < paths.length; i++) {
    // A turn of the event loop now and then, so that what was started before the scan (the
    // manifest request, git) goes on meanwhile.
    if (i % 256 === 255) await new Promise((resolve) => setImmediate(resolve));
    const path = paths[i]!;
    const full = dir + sep + path;
    const display = shown === "" ? path : shown + sep + path;
    const key = keyFromRelativePath(path)!;
    const keyIssue = keyProblem(key);
    if (keyIssue) {
      problems.push({ file: display, line: 1, column: 1, key, message: `${keyIssue} (rename the file)` });
      continue;
    }
    const text = readFileSync(full, "utf8");
    const parsed = parseJsonFile(text, display);
    if (!parsed.ok) {
      problems.push(...parsed.problems.map((p) => ({ ...p, key })));
      continue;
    }
    const { sha256 } = canonicalize(parsed.value);
    configs.set(key, { key, file: display, value: parsed.value, sha256, text });
    for (const issue of compiled?.validate(key, parsed.value) ?? []) {
      problems.push({
        file: display,
        ...locatePointer(text, issue.pointer),
        key,
        pointer: issue.pointer,
        message: `${issue.pointer || "(document)"}: ${issue.message} (schema ${issue.schema})`,
      });
    }
  }
  return { target, configs, schemas, problems };
}
