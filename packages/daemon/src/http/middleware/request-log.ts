import type { Context } from "hono";
import type { Logger } from "../../logger.js";

/**
 * One log line per request, with its request id (see response-headers). Called by observe() once
 * the answer is made: a middleware of its own, it cost one more promise per request.
 */
export function logRequest(logger: Logger, c: Context, started: number): void {
  const status = c.res.status;
  if (c.req.path === "/healthz" || c.req.path === "/readyz") return;
  logger[status >= 500 ? "error" : "debug"]("request", {
    requestId: (c.get as (key: string) => unknown)("requestId"),
    method: c.req.method,
    path: c.req.path,
    status,
    ms: Math.round((performance.now() - started) * 10) / 10,
  });
}
