import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { canonicalJson, type JsonValue } from "./canonical-json.js";
import type { ValidationIssue } from "./errors.js";
import { compileKeyGlob, keyGlobProblem } from "./key-glob.js";
import { schemaNameProblem } from "./names.js";

// NB: ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

/** A JSON Schema bound to the keys matching a glob. */
export interface SchemaBinding {
  name: string;
  match: string;
  schema: JsonValue;
}

/** A schema set ready to validate values; build it once per schema set (compilation is costly). */
export interface CompiledSchemaSet {
  /** Every violation of every schema whose `match` covers `key` (empty when valid). */
  validate(key: string, value: JsonValue): ValidationIssue[];
  /** Names of the schemas that apply to `key`. */
  schemasFor(key: string): string[];
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: true });
  addFormats(ajv);
  return ajv;
}

function describe(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required")
    return `missing required property ${JSON.stringify(params.missingProperty)}`;
  if (error.keyword === "additionalProperties")
    return `unexpected property ${JSON.stringify(params.additionalProperty)}`;
  if (error.keyword === "enum")
    return `${error.message ?? "must be one of the allowed values"}: ${JSON.stringify(params.allowedValues)}`;
  return error.message ?? `fails ${error.keyword}`;
}

function pointerOf(error: ErrorObject): string {
  if (error.keyword === "required") {
    return `${error.instancePath}/${String((error.params as { missingProperty: string }).missingProperty)}`;
  }
  return error.instancePath;
}

/**
 * Check a schema set itself: names, globs and that each schema is valid draft 2020-12.
 * Returns every problem (key "" and the schema name in `schema`).
 */
export function checkSchemaSet(bindings: readonly SchemaBinding[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const binding of bindings) {
    const at = { key: "", pointer: "", schema: binding.name };
    const nameProblem = schemaNameProblem(binding.name);
    if (nameProblem) issues.push({ ...at, message: nameProblem });
    if (seen.has(binding.name)) issues.push({ ...at, message: `schema ${binding.name} is defined twice` });
    seen.add(binding.name);
    const globProblem = keyGlobProblem(binding.match);
    if (globProblem) issues.push({ ...at, message: globProblem });
    if (typeof binding.schema !== "object" && typeof binding.schema !== "boolean") {
      issues.push({ ...at, message: "a schema must be a JSON object or boolean" });
      continue;
    }
    try {
      // NB: schemas may carry an $id; compile in a fresh instance each so ids never collide.
      newAjv().compile(binding.schema as object);
    } catch (error) {
      issues.push({ ...at, message: `invalid JSON Schema: ${(error as Error).message}` });
    }
  }
  return issues;
}

const cache = new Map<string, CompiledSchemaSet>();
/** A deeply frozen set (it cannot change) is found by itself, without working out its canonical text. */
const byFrozenSet = new WeakMap<readonly SchemaBinding[], CompiledSchemaSet>();

/**
 * Compile a schema set. Assumes `checkSchemaSet` found no problem. Results are cached by the
 * canonical text of the set, and a frozen set (the daemon's, shared by every write to a project)
 * by the set itself, so the daemon can call this on every apply cheaply.
 */
export function compileSchemaSet(bindings: readonly SchemaBinding[]): CompiledSchemaSet {
  const frozen = Object.isFrozen(bindings);
  const known = frozen ? byFrozenSet.get(bindings) : undefined;
  if (known) return known;
  const compiledSet = compileByText(bindings);
  if (frozen) byFrozenSet.set(bindings, compiledSet);
  return compiledSet;
}

function compileByText(bindings: readonly SchemaBinding[]): CompiledSchemaSet {
  const cacheKey = canonicalJson(bindings);
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  const compiled = bindings.map((binding) => ({
    name: binding.name,
    matches: compileKeyGlob(binding.match),
    validate: newAjv().compile(binding.schema as object) as ValidateFunction,
  }));
  const set: CompiledSchemaSet = {
    schemasFor: (key) => compiled.filter((entry) => entry.matches(key)).map((entry) => entry.name),
    validate(key, value) {
      const issues: ValidationIssue[] = [];
      for (const entry of compiled) {
        if (!entry.matches(key)) continue;
        if (entry.validate(value)) continue;
        for (const error of entry.validate.errors ?? []) {
          issues.push({ key, pointer: pointerOf(error), message: describe(error), schema: entry.name });
        }
      }
      return issues;
    },
  };
  if (cache.size > 64) cache.clear();
  cache.set(cacheKey, set);
  return set;
}
