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
  const copy = sortedCopy(value, 0);
  return copy === UNUSUAL ? write(value, new Set()) : JSON.stringify(copy);
}

/**
 * The fast way, for what JSON.parse makes: a copy with every object's keys inserted in sorted
 * order, written by JSON.stringify (native, about twice as fast as writing the text piece by
 * piece here). UNUSUAL for anything it cannot copy faithfully, which `write` then handles (or
 * refuses): a key that is an integer (objects list those first, in numeric order), `__proto__`,
 * anything but plain objects, arrays, finite numbers, strings, booleans and null, and nesting
 * deeper than MAX_DEPTH (which is how a cycle shows up here).
 */
const UNUSUAL: unique symbol = Symbol("unusual");
const MAX_DEPTH = 500;
const INTEGER = /^(?:0|[1-9][0-9]*)$/;

function sortedCopy(value: unknown, depth: number): unknown {
  if (typeof value !== "object") {
    if (typeof value === "string" || typeof value === "boolean") return value;
    return typeof value === "number" && Number.isFinite(value) ? value : UNUSUAL;
  }
  if (value === null) return null;
  if (depth > MAX_DEPTH) return UNUSUAL;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const item = sortedCopy(value[i], depth + 1);
      if (item === UNUSUAL) return UNUSUAL;
      out[i] = item;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return UNUSUAL;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    if (key === "__proto__" || (key.charCodeAt(0) <= 57 && INTEGER.test(key))) return UNUSUAL;
    const copy = sortedCopy(item, depth + 1);
    if (copy === UNUSUAL) return UNUSUAL;
    out[key] = copy;
  }
  return out;
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
