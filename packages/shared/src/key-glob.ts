import picomatch from "picomatch";

/**
 * Compile a schema binding's `match` glob over keys (`services/**`, `*.json`-free paths).
 * `*` matches within one segment, `**` across segments; dot segments are matched too.
 */
export function compileKeyGlob(pattern: string): (key: string) => boolean {
  const matcher = picomatch(pattern, { dot: true });
  return (key: string) => matcher(key);
}

/** Why `pattern` is not a usable key glob, or null when it is. */
export function keyGlobProblem(pattern: string): string | null {
  if (pattern.trim() === "") return "empty match pattern";
  if (pattern.startsWith("/"))
    return `match pattern ${JSON.stringify(pattern)} must be relative (no leading '/')`;
  try {
    picomatch.makeRe(pattern);
    return null;
  } catch (error) {
    return `invalid match pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`;
  }
}
