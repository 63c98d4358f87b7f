import type { ServerResponse } from "node:http";
import type { Context } from "hono";

/**
 * Set a header of the answer. On Node it goes straight onto the ServerResponse, which merges it
 * with the headers the answer is written with; through Hono (c.header) @hono/node-server would
 * build a web Headers object for every answer and convert it back, which cost more than the rest
 * of a small answer. In-process tests (app.request) have no ServerResponse and use Hono's.
 */
export function setHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing && !outgoing.headersSent) outgoing.setHeader(name, value);
  else c.header(name, value);
}
