import { setTimeout as sleep } from "node:timers/promises";
import { CfgError } from "@cfguardian/shared";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";

/** Where the leader is, as this node knows it. */
export interface LeaderLocator {
  isLeader(): boolean;
  leaderUrl(): string | null;
}

const HOP_HEADER = "x-cfg-forwarded-by";

/**
 * Any node takes any request: a write that reaches a follower is sent on to the leader, and the
 * leader's answer comes back unchanged. Waits briefly for an election when no leader is known.
 */
export function forwardWritesToLeader(locator: LeaderLocator, self: string): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || locator.isLeader()) return next();
    if (c.req.header(HOP_HEADER)) return next(); // one hop only: the proposer answers not_leader
    let url = locator.leaderUrl();
    for (let i = 0; i < 40 && !url; i++) {
      await sleep(50);
      if (locator.isLeader()) return next();
      url = locator.leaderUrl();
    }
    if (!url) throw new CfgError("unavailable", "no leader is known yet; retry shortly");
    const target = new URL(c.req.path + (new URL(c.req.url).search || ""), url);
    const headers = new Headers(c.req.raw.headers);
    headers.set(HOP_HEADER, self);
    headers.delete("host");
    headers.delete("content-length");
    const body = await c.req.arrayBuffer();
    let response: Response;
    try {
      response = await fetch(target, {
        method: c.req.method,
        headers,
        body: body.byteLength > 0 ? body : undefined,
      });
    } catch (error) {
      throw new CfgError("unavailable", `could not reach the leader at ${url}: ${(error as Error).message}`);
    }
    // NB: fetch's headers are immutable and describe the wire form it already decoded.
    const answer = new Headers(response.headers);
    for (const name of ["content-encoding", "content-length", "transfer-encoding", "connection"])
      answer.delete(name);
    return new Response(response.body, { status: response.status, headers: answer });
  });
}
