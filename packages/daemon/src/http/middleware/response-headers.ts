import { randomUUID } from "node:crypto";
import { createMiddleware } from "hono/factory";
import { requestHeader } from "../request.js";
import { setFirstHeaders, setHeader } from "../response.js";
import type { AuthEnv } from "./auth.js";

/** The security headers of every answer: those of Hono's secureHeaders() defaults. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

const SECURITY_PAIRS = SECURITY_HEADERS.flat();
const SECURITY_NAMES = SECURITY_HEADERS.map(([name]) => name.toLowerCase());

/**
 * The request id (the caller's X-Request-Id, or a new one) and the security headers, set before
 * the handler runs, so that they go into the answer as it is made. Set after it (as Hono's
 * secureHeaders does), they make Hono rebuild the finished Response on every request: a tenth of
 * a follower's CPU under read load.
 */
export function responseHeaders() {
  // Not async, like every middleware here with nothing to do after the handler: it hands on
  // next()'s promise instead of awaiting it in a promise of its own (Hono catches what it throws).
  return createMiddleware<AuthEnv>((c, next) => {
    setFirstHeaders(c, SECURITY_PAIRS, SECURITY_NAMES);
    const requestId = requestHeader(c, "x-request-id") ?? randomUUID();
    c.set("requestId", requestId);
    setHeader(c, "X-Request-Id", requestId);
    return next();
  });
}
