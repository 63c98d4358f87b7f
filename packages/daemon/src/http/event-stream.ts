/**
 * A server-sent events stream (text/event-stream). On Node it is written straight onto the
 * ServerResponse: Hono's streamSSE goes through a TransformStream and @hono/node-server's reader
 * loop, a handful of promises per event, which was most of what one change cost each of a
 * thousand watchers. In-process tests (app.request) have no ServerResponse and get Hono's stream.
 *
 * `run` writes the events; the stream ends when it returns or throws (an error is printed, as
 * Hono's stream does; the client reconnects with Last-Event-ID, so nothing is lost).
 */
import type { ServerResponse } from "node:http";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { setHeader } from "./response.js";

export interface EventStream {
  /** Send text as it is (whole SSE fields); a promise only when the socket is backed up. */
  write(text: string): Promise<void> | undefined;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
}

/** One SSE message: `event`, `id` and `data` (a single line, e.g. JSON). */
export function sseMessage(event: string, data: string, id?: string): string {
  if (/[\r\n]/.test(data) || (id !== undefined && /[\r\n]/.test(id)))
    throw new Error("an SSE field must be a single line");
  return id === undefined
    ? `event: ${event}\ndata: ${data}\n\n`
    : `event: ${event}\ndata: ${data}\nid: ${id}\n\n`;
}

export function eventStream(c: Context, run: (stream: EventStream) => Promise<void>): Response {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (!outgoing) {
    return streamSSE(c, async (sse) => {
      const aborted = new AbortController();
      sse.onAbort(() => aborted.abort());
      c.req.raw.signal.addEventListener("abort", () => aborted.abort(), { once: true });
      await run({ write: (text) => sse.write(text).then(() => undefined), signal: aborted.signal });
    });
  }
  const aborted = new AbortController();
  let drained: (() => void) | undefined;
  outgoing.on("close", () => {
    aborted.abort();
    drained?.();
  });
  outgoing.on("drain", () => drained?.());
  const stream: EventStream = {
    write(text) {
      if (aborted.signal.aborted || outgoing.write(text)) return undefined;
      return new Promise<void>((resolve) => {
        drained = () => {
          drained = undefined;
          resolve();
        };
      });
    },
    signal: aborted.signal,
  };
  setHeader(c, "Content-Type", "text/event-stream");
  setHeader(c, "Cache-Control", "no-cache");
  setHeader(c, "Connection", "keep-alive");
  outgoing.writeHead(200);
  run(stream)
    .catch((error) => console.error(error))
    .finally(() => outgoing.end());
  // Tells @hono/node-server that the answer is being written already (its own such object is
  // shared; middlewares could set headers on it).
  return new Response(null, { headers: { "x-hono-already-sent": "true" } });
}
