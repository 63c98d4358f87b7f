import { CfgError } from "@cfguardian/shared";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { Rule } from "../rbac.js";
import { type AuthEnv, routeOf } from "./auth.js";
import { clientAddress } from "./client-address.js";

/** Token buckets by key: `perSecond` refill, at most `burst` saved up. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** 0 when the request may go, else the seconds to wait. */
  take(key: string): number {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear(); // NB: bounded memory under a flood of addresses
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }
}

export interface RateLimits {
  /** Logins, refreshes and bootstrap attempts per address; 0: no limit. */
  loginPerMinute: number;
  /** App reads (GET /v1/read, /v1/watch) per credential and per address; 0: no limit. */
  readsPerSecond: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { loginPerMinute: 30, readsPerSecond: 500 };

const LOGIN = new Set(["auth.login", "auth.refresh", "auth.bootstrap"]);
const READS = new Set(["app.read", "app.watch"]);

/**
 * 429 with Retry-After when a login address or an app reader goes over its budget. Two
 * middlewares sharing the budgets: `byAddress` goes before authentication, so that requests with
 * wrong keys or tokens are counted too (guessing keys costs the same budget as reading), and
 * `byCredential` after it, for the per-key budget of app reads.
 */
export function rateLimits(limits: RateLimits, rules: Record<string, Rule>) {
  const logins =
    limits.loginPerMinute > 0 ? new TokenBuckets(limits.loginPerMinute / 60, limits.loginPerMinute) : null;
  const reads =
    limits.readsPerSecond > 0 ? new TokenBuckets(limits.readsPerSecond, limits.readsPerSecond * 2) : null;
  const refuse = (wait: number) => {
    throw new CfgError("rate_limited", `too many requests; retry in ${wait} s`, { retryAfter: wait });
  };
  const byAddress = createMiddleware<AuthEnv>((c, next) => {
    const route = routeOf(c as unknown as Context);
    const action = route ? rules[`${route.method} ${route.path}`]?.action : undefined;
    const address = clientAddress(c as unknown as Context) ?? "local";
    let wait = 0;
    if (logins && action && LOGIN.has(action)) wait = logins.take(address);
    else if (reads && action && READS.has(action)) wait = reads.take(`addr:${address}`);
    if (wait > 0) refuse(wait);
    return next();
  });
  const byCredential = createMiddleware<AuthEnv>((c, next) => {
    const action = c.get("rule")?.action;
    const subject = c.get("principal")?.subject;
    if (reads && action && READS.has(action) && subject !== undefined) {
      const wait = reads.take(`who:${subject}`);
      if (wait > 0) refuse(wait);
    }
    return next();
  });
  return { byAddress, byCredential };
}
