import { createMiddleware } from "hono/factory";
import type { Logger } from "../../logger.js";
import type { AuthEnv } from "./auth.js";

/** One log line per request, with its request id (see response-headers). */
export function requestLog(logger: Logger) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const requestId = c.get("requestId");
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
