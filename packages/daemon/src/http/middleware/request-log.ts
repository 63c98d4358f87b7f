import { randomUUID } from "node:crypto";
import { createMiddleware } from "hono/factory";
import type { Logger } from "../../logger.js";
import type { AuthEnv } from "./auth.js";

/** A request id on every request (echoed as X-Request-Id) and one log line per request. */
export function requestLog(logger: Logger) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const requestId = c.req.header("x-request-id") ?? randomUUID();
    c.set("requestId", requestId);
    const started = performance.now();
    await next();
    c.header("X-Request-Id", requestId);
    const status = c.res.status;
    if (c.req.path === "/healthz" || c.req.path === "/readyz") return;
    logger[status >= 500 ? "error" : "debug"]("request", {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
}
