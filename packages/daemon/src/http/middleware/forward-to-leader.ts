import { setTimeout as sleep } from "node:timers/promises";
import { CfgError } from "@cfguardian/shared";
import { context, propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { Metrics } from "../../observability/metrics.js";
import { tracer } from "../../observability/tracer.js";
import { bodyText } from "../request.js";
import {
  addressMac,
  CLIENT_ADDRESS_HEADER,
  CLIENT_ADDRESS_MAC_HEADER,
  clientAddress,
} from "./client-address.js";

/** Where the leader is, as this node knows it. */
export interface LeaderLocator {
  isLeader(): boolean;
  leaderUrl(): string | null;
}

const HOP_HEADER = "x-cfg-forwarded-by";
const FORWARD_TIMEOUT_MS = 10_000;
/** Operations on the node that receives them, never forwarded. */
const NODE_LOCAL = new Set(["/v1/cluster/snapshot"]);

/**
 * Any node takes any request: a write that reaches a follower is sent on to the leader, and the
 * leader's answer comes back unchanged. Waits briefly for an election when no leader is known.
 */
export function forwardWritesToLeader(
  locator: LeaderLocator,
  self: string,
  metrics?: Metrics,
  /** The cluster secret: the leader then trusts the caller's address this node passes on. */
  secret?: string,
): MiddlewareHandler {
  return createMiddleware(async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || locator.isLeader()) return next();
    if (NODE_LOCAL.has(c.req.path)) return next();
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
    headers.delete(CLIENT_ADDRESS_HEADER);
    headers.delete(CLIENT_ADDRESS_MAC_HEADER);
    const address = clientAddress(c);
    if (secret && address) {
      headers.set(CLIENT_ADDRESS_HEADER, address);
      headers.set(CLIENT_ADDRESS_MAC_HEADER, addressMac(secret, address));
    }
    headers.delete("host");
    headers.delete("content-length");
    const body = Buffer.from(await bodyText(c), "utf8");
    const response = await tracer().startActiveSpan(
      "cfgd.forward-to-leader",
      { kind: SpanKind.CLIENT, attributes: { "server.address": url, "http.request.method": c.req.method } },
      async (span) => {
        // The leader continues this trace: its server span is a child of this one.
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        for (const [name, value] of Object.entries(carrier)) headers.set(name, value);
        try {
          const answer = await fetch(target, {
            method: c.req.method,
            headers,
            body: body.byteLength > 0 ? body : undefined,
            // The leader answers within its own 5 s commit timeout; a hung leader must not hang us.
            signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
          });
          span.setAttribute("http.response.status_code", answer.status);
          metrics?.forwarded.inc({ result: String(answer.status) });
          return answer;
        } catch (error) {
          metrics?.forwarded.inc({ result: "unreachable" });
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          throw new CfgError(
            "unavailable",
            `could not reach the leader at ${url}: ${(error as Error).message}`,
          );
        } finally {
          span.end();
        }
      },
    );
    // NB: fetch's headers are immutable and describe the wire form it already decoded.
    const answer = new Headers(response.headers);
    for (const name of ["content-encoding", "content-length", "transfer-encoding", "connection"])
      answer.delete(name);
    // The leader audited it; the audit middleware here must not record it again.
    c.set("forwarded" as never, true as never);
    return new Response(response.body, { status: response.status, headers: answer });
  });
}
