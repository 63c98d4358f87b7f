import diff from "microdiff";
import type { JsonValue } from "./canonical-json.js";

/** One structural change inside a JSON document, addressed by a JSON pointer. */
export interface JsonChange {
  op: "add" | "remove" | "replace";
  /** RFC 6901 pointer into the document ("" is the whole document). */
  path: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** Escape one path segment for a JSON pointer (RFC 6901). */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replaceAll("~", "~0").replaceAll("/", "~1");
}

export function toPointer(path: readonly (string | number)[]): string {
  return path.map((segment) => `/${escapePointerSegment(segment)}`).join("");
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

/**
 * The structural difference between two JSON documents, in document order. Changes inside
 * objects and arrays are reported per member (microdiff does the walk); a change of type at the
 * top level is one `replace` of the whole document.
 */
export function jsonDiff(before: JsonValue, after: JsonValue): JsonChange[] {
  if (!isContainer(before) || !isContainer(after) || Array.isArray(before) !== Array.isArray(after)) {
    return Object.is(before, after) ? [] : [{ op: "replace", path: "", before, after }];
  }
  return diff(before as Record<string, unknown>, after as Record<string, unknown>, {
    cyclesFix: false,
  }).map((change): JsonChange => {
    const path = toPointer(change.path);
    switch (change.type) {
      case "CREATE":
        return { op: "add", path, after: change.value as JsonValue };
      case "REMOVE":
        return { op: "remove", path, before: change.oldValue as JsonValue };
      default:
        return {
          op: "replace",
          path,
          before: change.oldValue as JsonValue,
          after: change.value as JsonValue,
        };
    }
  });
}
