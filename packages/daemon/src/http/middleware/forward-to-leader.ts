import { setTimeout as sleep } from "node:timers/promises";
import { CfgError } from "@cfguardian/shared";
import { context, propagation, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { StatusCode } from "hono/utils/http-status";
import { Agent, type Dispatcher, request } from "undici";
import type { Metrics } from "../../observability/metrics.js";
import { tracer } from "../../observability/tracer.js";
import { bodyText, incomingOf, requestHeader } from "../request.js";
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
 * Config writes: every check that decides them (baseRevision, If-Match, schemas) runs where they
 * are applied, on every node alike. So the member that receives one authorizes, limits and audits
 * it, and proposes it through Raft, which carries the entry to the leader on the peer stream (as
 * etcd forwards proposals): no second HTTP request, and the leader's CPU is left for Raft.
 */
const KEY_WRITE = /^\/v1\/projects\/[^/]+\/configs\/.+$/;
const CHANGE_SET = /^\/v1\/projects\/[^/]+\/(pushes|rollback)$/;
export const isConfigWrite = (method: string, path: string): boolean =>
  method === "POST"
    ? CHANGE_SET.test(path)
    : (method === "PUT" || method === "DELETE") && KEY_WRITE.test(path);

/**
 * Any node takes any request: a config write is handled where it arrives (see isConfigWrite);
 * any other write that reaches a follower is sent on to the leader, and the leader's answer comes
 * back unchanged. Waits briefly for an election when no leader is known.
 */
export function forwardWritesToLeader(
  locator: LeaderLocator,
  self: string,
  metrics?: Metrics,
  /** The cluster secret: the leader then trusts the caller's address this node passes on. */
  secret?: string,
): MiddlewareHandler {
  const forward: MiddlewareHandler = async (c, next) => {
    if (requestHeader(c, HOP_HEADER)) return next(); // one hop only: the proposer answers not_leader
    let url = locator.leaderUrl();
    for (let i = 0; i < 40 && !url; i++) {
      await sleep(50);
      if (locator.isLeader()) return next();
      url = locator.leaderUrl();
    }
    if (!url) throw new CfgError("unavailable", "no leader is known yet; retry shortly");
    if (isConfigWrite(c.req.method, c.req.path)) return next();
    const search = c.req.url.indexOf("?");
    const path = c.req.path + (search >= 0 ? c.req.url.slice(search) : "");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(requestHeaders(c))) {
      if (value === undefined || DROPPED_REQUEST_HEADERS.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    headers[HOP_HEADER] = self;
    // One request id on both nodes' logs.
    const requestId = (c.get as (key: string) => unknown)("requestId");
    if (typeof requestId === "string") headers["x-request-id"] = requestId;
    const address = clientAddress(c);
    if (secret && address) {
      headers[CLIENT_ADDRESS_HEADER] = address;
      headers[CLIENT_ADDRESS_MAC_HEADER] = addressMac(secret, address);
    }
    const body = await bodyText(c);
    const answer = await tracer().startActiveSpan(
      "cfgd.forward-to-leader",
      { kind: SpanKind.CLIENT, attributes: { "server.address": url, "http.request.method": c.req.method } },
      async (span) => {
        // The leader continues this trace: its server span is a child of this one.
        propagation.inject(context.active(), headers);
        try {
          // undici's request on a keep-alive pool, not fetch: a forwarded write is on the hot path,
          // and fetch's web streams and Headers cost more than the hop itself.
          const response = await request(new URL(path, url), {
            method: c.req.method as Dispatcher.HttpMethod,
            headers,
            body: body.length > 0 ? body : undefined,
            dispatcher: leaders,
            // The leader answers within its own 5 s commit timeout; a hung leader must not hang us.
            headersTimeout: FORWARD_TIMEOUT_MS,
            bodyTimeout: FORWARD_TIMEOUT_MS,
          });
          const bytes = await response.body.arrayBuffer();
          span.setAttribute("http.response.status_code", response.statusCode);
          metrics?.forwarded.inc({ result: String(response.statusCode) });
          return { status: response.statusCode, headers: response.headers, bytes };
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
    // The leader audited it; the audit middleware here must not record it again.
    c.set("forwarded" as never, true as never);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || DROPPED_RESPONSE_HEADERS.has(name)) continue;
      out[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const empty = answer.bytes.byteLength === 0 || answer.status === 204 || answer.status === 304;
    // A Uint8Array, not the ArrayBuffer: @hono/node-server answers those without building a web
    // Response (which reading the status for the log and metrics would otherwise do).
    return c.newResponse(empty ? null : new Uint8Array(answer.bytes), answer.status as StatusCode, out);
  };
  // Reads, and anything on the leader, go straight on (see response-headers on why not async).
  return createMiddleware((c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || locator.isLeader()) return next();
    if (NODE_LOCAL.has(c.req.path)) return next();
    return forward(c, next);
  });
}

/** Hop-by-hop and recomputed headers: not passed on to the leader. */
const DROPPED_REQUEST_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "expect",
  "te",
  "trailer",
  "proxy-connection",
  CLIENT_ADDRESS_HEADER,
  CLIENT_ADDRESS_MAC_HEADER,
]);
/** Not passed back: the answer is re-sent whole, with its own length. */
const DROPPED_RESPONSE_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

/** Keep-alive connections to whichever node leads. */
const leaders = new Agent({ keepAliveTimeout: 30_000, connections: 64 });

function requestHeaders(c: Context): Record<string, string | string[] | undefined> {
  const incoming = incomingOf(c);
  return incoming ? incoming.headers : Object.fromEntries(c.req.raw.headers);
}
