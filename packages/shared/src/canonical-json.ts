import { hash } from "node:crypto";

/** A JSON document as parsed by `JSON.parse`. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The canonical text of a JSON value: object keys sorted by code unit, no insignificant space,
 * numbers and strings as `JSON.stringify` writes them. Two documents with the same content have
 * the same canonical text, so hashes and diffs are about content, not formatting.
 * Throws on values that are not JSON (undefined, functions, non-finite numbers, cycles).
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`not a JSON number: ${value}`);
      return JSON.stringify(value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (seen.has(value)) throw new TypeError("cyclic value is not JSON");
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value.map((item) => write(item, seen)).join(",")}]`;
      } else {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record).sort();
        const parts: string[] = [];
        for (const key of keys) {
          if (record[key] === undefined) continue;
          parts.push(`${JSON.stringify(key)}:${write(record[key], seen)}`);
        }
        out = `{${parts.join(",")}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      throw new TypeError(`not a JSON value: ${typeof value}`);
  }
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

/** Hex SHA-256 of a value's canonical JSON: the content hash used by manifests and diffs. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** Canonical text and its hash in one pass. */
export function canonicalize(value: unknown): { text: string; sha256: string } {
  const text = canonicalJson(value);
  return { text, sha256: sha256Hex(text) };
}
