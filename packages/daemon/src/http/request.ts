import type { IncomingMessage } from "node:http";
import { CfgError, canonicalJson, type JsonValue, keyProblem, projectNameProblem } from "@cfguardian/shared";
import type { Context } from "hono";
import type { Consistency } from "../services/config-service.js";

/** Node's request under Hono (absent in in-process tests, which use app.request). */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** A request header, from Node's parsed headers when there are some (no Headers object built). */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = incomingOf(c);
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}

/**
 * The request body as text. On Node with a Content-Length (already checked against the body
 * limit by then), straight from the socket: Hono's web-stream path costs about a millisecond per
 * request, which is most of a Raft hop. Without one (chunked), through Hono, whose body limit
 * counts the bytes as they come.
 */
export async function bodyText(c: Context): Promise<string> {
  const incoming = incomingOf(c);
  if (incoming?.readable && incoming.headers["content-length"] !== undefined) return readAll(incoming);
  return c.req.text();
}

/**
 * The rest of `incoming` as text, by its events: an async iterator over it (`for await`) set up
 * a dozen listeners and a promise per chunk, 2% of a leader's time under writes of small bodies.
 */
function readAll(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () =>
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")),
    );
    incoming.once("error", reject);
    // A caller that goes away mid-body: no "end" comes (after one, this does nothing).
    incoming.once("close", () => {
      if (!incoming.complete) reject(new Error("the request body was cut off before its end"));
    });
  });
}

/** Parse a JSON body; malformed JSON is a bad_request that says where. */
export async function readJson<T = unknown>(c: Context): Promise<T> {
  const text = await bodyText(c);
  if (text.trim() === "")
    throw new CfgError("bad_request", "the request body is empty; send a JSON document");
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new CfgError("bad_request", `the request body is not valid JSON: ${(error as Error).message}`);
  }
}

export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CfgError("bad_request", `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function projectParam(c: Context): string {
  const name = c.req.param("project") ?? "";
  const problem = projectNameProblem(name);
  if (problem) throw new CfgError("bad_request", problem);
  return name;
}

export function keyParam(c: Context): string {
  const key = decodeURIComponent(c.req.param("key") ?? "");
  const problem = keyProblem(key);
  if (problem) throw new CfgError("bad_request", problem);
  return key;
}

export function consistencyParam(c: Context, fallback: Consistency): Consistency {
  const value = c.req.query("consistency");
  if (value === undefined) return fallback;
  if (value === "linearizable" || value === "serializable") return value;
  throw new CfgError(
    "bad_request",
    `consistency must be linearizable or serializable, not ${JSON.stringify(value)}`,
  );
}

export function intQuery(
  c: Context,
  name: string,
  options: { min?: number; max?: number } = {},
): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (
    !Number.isInteger(value) ||
    value < (options.min ?? 0) ||
    value > (options.max ?? Number.MAX_SAFE_INTEGER)
  ) {
    throw new CfgError(
      "bad_request",
      `${name} must be an integer${options.min !== undefined ? ` >= ${options.min}` : ""}, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

export function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new CfgError("bad_request", `${name} must be a non-negative integer`);
  return value;
}

/** `If-Match: "3"` or `If-Match: 3`; 0 means the key must not exist yet. */
export function ifMatch(c: Context): number | undefined {
  const raw = requestHeader(c, "if-match");
  if (raw === undefined) return undefined;
  const text = raw
    .trim()
    .replace(/^W\//, "")
    .replace(/^"(.*)"$/, "$1");
  const value = Number(text);
  if (text === "" || !Number.isInteger(value) || value < 0) {
    throw new CfgError(
      "bad_request",
      `If-Match must be a key version like "3" (0: the key must not exist), not ${raw}`,
    );
  }
  return value;
}

/** Refuse a value whose canonical form is over the limit, naming the key. */
export function checkValueSize(key: string, value: JsonValue, maxBytes: number): void {
  let size: number;
  try {
    size = Buffer.byteLength(canonicalJson(value));
  } catch (error) {
    throw new CfgError("bad_request", `value of ${key} is not JSON: ${(error as Error).message}`);
  }
  if (size > maxBytes) {
    throw new CfgError(
      "payload_too_large",
      `value of ${key} is ${size} bytes; the limit is ${maxBytes} (cfgd --max-value-bytes)`,
      { key, size, limit: maxBytes },
    );
  }
}
