import type { JsonValue } from "@cfguardian/shared";
import { findNodeAtLocation, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";

/** A problem found in a local file, located for humans and for CI annotations. */
export interface FileProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  key?: string;
  pointer?: string;
}

export type ParseResult = { ok: true; value: JsonValue } | { ok: false; problems: FileProblem[] };

/** 1-based line and column of a character offset. */
export function locate(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const MESSAGES: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a property name in double quotes",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' (or a closing bracket)",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "unexpected content after the JSON document",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "unterminated comment",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid unicode escape",
  InvalidEscapeCharacter: "invalid escape character",
  InvalidCharacter: "invalid character in string",
};

/**
 * Parse strict JSON. The fast path is JSON.parse; only a file that fails is parsed again with
 * jsonc-parser (comments and trailing commas refused) to say where, as file:line:column.
 */
export function parseJsonFile(text: string, file: string): ParseResult {
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch (error) {
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    if (errors.length === 0) {
      // jsonc-parser is more lenient than JSON.parse in a few corners; report what JSON.parse said.
      return { ok: false, problems: [{ file, line: 1, column: 1, message: (error as Error).message }] };
    }
    return {
      ok: false,
      // The first syntax error is the one to fix; later ones are usually its echoes.
      problems: errors.slice(0, 1).map((parseError) => {
        const name = printParseErrorCode(parseError.error);
        return {
          file,
          ...locate(text, parseError.offset),
          message: `invalid JSON: ${MESSAGES[name] ?? name}`,
        };
      }),
    };
  }
}

function unescapeSegment(segment: string): string | number {
  const text = segment.replaceAll("~1", "/").replaceAll("~0", "~");
  return /^(0|[1-9][0-9]*)$/.test(text) ? Number(text) : text;
}

/**
 * Where a JSON pointer points in a file's text: the member itself, or for a missing member the
 * closest existing parent (so "missing required property" lands on its object).
 */
export function locatePointer(text: string, pointer: string): { line: number; column: number } {
  const root = parseTree(text);
  if (!root) return { line: 1, column: 1 };
  const path = pointer === "" ? [] : pointer.slice(1).split("/").map(unescapeSegment);
  for (let length = path.length; length >= 0; length--) {
    const node = findNodeAtLocation(root, path.slice(0, length));
    if (node) {
      const at = node.parent?.type === "property" && length > 0 ? node.parent.offset : node.offset;
      return locate(text, at);
    }
  }
  return { line: 1, column: 1 };
}
