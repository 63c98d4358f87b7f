/** Project names: `^[a-z0-9][a-z0-9-]{0,62}$`. */
export const PROJECT_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Keys: slash-separated segments of `[a-z0-9][a-z0-9._-]*`, at most 256 characters. */
export const KEY_PATTERN = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/;
export const MAX_KEY_LENGTH = 256;
/** Schema names follow the project name rule. */
export const SCHEMA_NAME_PATTERN = PROJECT_NAME_PATTERN;

/** Why `name` is not a valid project name, or null when it is. */
export function projectNameProblem(name: string): string | null {
  if (PROJECT_NAME_PATTERN.test(name)) return null;
  return `invalid project name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits and '-', starting with a letter or digit`;
}

/** Why `key` is not a valid key, or null when it is. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return "empty key";
  if (key.length > MAX_KEY_LENGTH)
    return `key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH}`;
  if (KEY_PATTERN.test(key)) return null;
  return `invalid key ${JSON.stringify(key)}: use '/'-separated segments of lowercase letters, digits, '.', '_' and '-', each starting with a letter or digit`;
}

export function schemaNameProblem(name: string): string | null {
  if (SCHEMA_NAME_PATTERN.test(name)) return null;
  return `invalid schema name ${JSON.stringify(name)}: use 1-63 lowercase letters, digits and '-'`;
}

/**
 * The key of a file in a target directory: its path relative to `dir`, with `/` separators and
 * without `.json`. Returns null for files that are not `.json`.
 */
export function keyFromRelativePath(relativePath: string): string | null {
  const normalized = relativePath.replaceAll("\\", "/");
  if (!normalized.endsWith(".json")) return null;
  return normalized.slice(0, -".json".length);
}
