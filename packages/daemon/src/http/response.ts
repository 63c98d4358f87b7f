import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import { CfgResponse } from "./server-response.js";

const outgoingOf = (c: Context): ServerResponse | undefined =>
  (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;

/**
 * Set a header of the answer. On Node it goes straight onto the ServerResponse (CfgResponse, which
 * writes it with the rest in one go); through Hono (c.header) @hono/node-server would build a web
 * Headers object for every answer and convert it back, which cost more than the rest of a small
 * answer. In-process tests (app.request) have no ServerResponse and use Hono's.
 */
export function setHeader(c: Context, name: string, value: string): void {
  const outgoing = outgoingOf(c);
  if (outgoing && !outgoing.headersSent) {
    if (outgoing instanceof CfgResponse) outgoing.add(name, value);
    else outgoing.setHeader(name, value);
  } else c.header(name, value);
}

/**
 * Set several headers known to be valid, of distinct names, before any other: [name, value, ...]
 * with their lower-cased names beside (see CfgResponse.addFirst).
 */
export function setFirstHeaders(c: Context, pairs: readonly string[], names: readonly string[]): void {
  const outgoing = outgoingOf(c);
  if (outgoing instanceof CfgResponse && !outgoing.headersSent) outgoing.addFirst(pairs, names);
  else for (let i = 0; i < names.length; i++) setHeader(c, pairs[2 * i]!, pairs[2 * i + 1]!);
}
