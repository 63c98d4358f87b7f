import { CfgError } from "@cfguardian/shared";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../../logger.js";

/** Every error leaves as application/problem+json with a code from the shared table. */
export function problemResponse(c: Context, error: CfgError): Response {
  const problem = error.toProblem(c.req.path);
  const retryAfter = error.extensions.retryAfter;
  if (error.code === "rate_limited" && typeof retryAfter === "number")
    c.header("Retry-After", String(retryAfter));
  return c.body(JSON.stringify(problem), error.status as 400, { "content-type": "application/problem+json" });
}

export function errorHandler(logger: Logger) {
  return (error: Error, c: Context): Response => {
    if (error instanceof CfgError) return problemResponse(c, error);
    if (error instanceof HTTPException) {
      const code =
        error.status === 413 ? "payload_too_large" : error.status === 401 ? "unauthorized" : "bad_request";
      return problemResponse(c, new CfgError(code, error.message || `HTTP ${error.status}`));
    }
    logger.error("unhandled error", {
      path: c.req.path,
      method: c.req.method,
      error: error.stack ?? String(error),
    });
    return problemResponse(c, new CfgError("internal", "internal error; see the server log"));
  };
}

export function notFound(c: Context): Response {
  return problemResponse(c, new CfgError("not_found", `no route ${c.req.method} ${c.req.path}`));
}
