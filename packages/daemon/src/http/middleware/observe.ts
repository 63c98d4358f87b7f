import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { Logger } from "../../logger.js";
import type { Metrics } from "../../observability/metrics.js";
import { tracer, tracingOn } from "../../observability/tracer.js";
import { incomingOf } from "../request.js";
import { logRequest } from "./request-log.js";

/**
 * Outermost middleware: a server span per request (continuing the caller's trace from its
 * `traceparent` header) when tracing is on, and the request count and latency by route pattern
 * (never by raw path, so the number of series stays bounded); and with a logger, the request's
 * log line (request-log).
 */
export function observe(metrics: Metrics, logger?: Logger) {
  const record = (c: Context, started: number): string => {
    const route = routePath(c, -1) || "unmatched";
    metrics.httpRequests.inc({ method: c.req.method, route, status: String(c.res.status) });
    metrics.httpDuration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
    if (logger) logRequest(logger, c, started);
    return route;
  };
  return createMiddleware(async (c, next) => {
    const started = performance.now();
    if (!tracingOn()) {
      try {
        await next();
      } finally {
        record(c, started);
      }
      return;
    }
    // Node's parsed headers (lowercase names) serve as the carrier as they are.
    const incoming = incomingOf(c);
    const carrier = incoming?.headers ?? Object.fromEntries(c.req.raw.headers);
    const parent = propagation.extract(ROOT_CONTEXT, carrier);
    await context.with(parent, () =>
      tracer().startActiveSpan(
        `${c.req.method} ${c.req.path}`,
        {
          kind: SpanKind.SERVER,
          attributes: { "http.request.method": c.req.method, "url.path": c.req.path },
        },
        async (span) => {
          try {
            await next();
          } finally {
            const route = record(c, started);
            const status = c.res.status;
            span.updateName(`${c.req.method} ${route}`);
            span.setAttribute("http.route", route);
            span.setAttribute("http.response.status_code", status);
            if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
            span.end();
          }
        },
      ),
    );
  });
}
