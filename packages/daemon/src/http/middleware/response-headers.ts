import { randomUUID } from "node:crypto";
import { createMiddleware } from "hono/factory";
import { requestHeader } from "../request.js";
import { setFirstHeaders, setHeader } from "../response.js";
import type { AuthEnv } from "./auth.js";

/**
 * The security headers of an HTML page (GET /docs): those of Hono's secureHeaders() defaults.
 */
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

/**
 * The ones that act on an API's answers (JSON, text, streams), as OWASP's REST Security Cheat
 * Sheet lists them: the rest only act on a document a browser renders (its links, frames, DNS
 * prefetches, downloads, the legacy XSS filter). node:http checks and writes every header of
 * every answer: the other seven cost a single-key write about 10,000 instructions (callgrind, one
 * node: 385,700-391,400 with them, 375,900-380,600 without) and 250 bytes on the wire.
 */
const API_HEADER_NAMES = new Set([
  "Cross-Origin-Resource-Policy",
  "Strict-Transport-Security",
  "X-Content-Type-Options",
  "X-Frame-Options",
]);
export const API_SECURITY_HEADERS = SECURITY_HEADERS.filter(([name]) => API_HEADER_NAMES.has(name));

const pairsOf = (headers: readonly (readonly [string, string])[]) => ({
  pairs: headers.flat(),
  names: headers.map(([name]) => name.toLowerCase()),
});
const PAGE = pairsOf(SECURITY_HEADERS);
const API = pairsOf(API_SECURITY_HEADERS);
/** The routes that answer with an HTML page. */
const PAGES = new Set(["/docs"]);

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
    const security = PAGES.has(c.req.path) ? PAGE : API;
    setFirstHeaders(c, security.pairs, security.names);
    const requestId = requestHeader(c, "x-request-id") ?? randomUUID();
    c.set("requestId", requestId);
    setHeader(c, "X-Request-Id", requestId);
    return next();
  });
}
