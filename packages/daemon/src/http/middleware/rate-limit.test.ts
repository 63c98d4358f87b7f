import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../../auth/admin-token.js";
import { openNode } from "../../daemon.js";
import { silentLogger } from "../../logger.js";
import { EmbeddedMetadataStore } from "../../metadata/embedded/embedded-store.js";
import { IdentityService } from "../../services/identity-service.js";
import { WatchService } from "../../services/watch-service.js";
import { createApp } from "../app.js";
import { TokenBuckets } from "./rate-limit.js";

describe("TokenBuckets", () => {
  it("lets a burst through, then refills at the rate, per key", () => {
    let now = 0;
    const buckets = new TokenBuckets(1, 3, () => now);
    expect([1, 2, 3].map(() => buckets.take("a"))).toEqual([0, 0, 0]);
    expect(buckets.take("a")).toBe(1);
    expect(buckets.take("b")).toBe(0);
    now += 1000;
    expect(buckets.take("a")).toBe(0);
    expect(buckets.take("a")).toBe(1);
  });
});

describe("rate limits on the app", () => {
  const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-rate-")));
  afterAll(() => node.close());
  const identity = new IdentityService(new EmbeddedMetadataStore(node.log, node.machine.store.db), {
    adminToken: new AdminTokenAuthenticator("cfgt_admin"),
    logger: silentLogger,
  });
  /** An app with budgets of its own (they live in the app, so tests do not share them). */
  const newApp = () =>
    createApp({
      service: node.service,
      authenticator: new AdminTokenAuthenticator("cfgt_admin"),
      identity,
      logger: silentLogger,
      ready: () => true,
      limits: { maxValueBytes: 1024, maxBodyBytes: 64 * 1024 },
      watch: new WatchService(node.machine),
      rateLimits: { loginPerMinute: 3, readsPerSecond: 2 },
    });
  const app = newApp();

  it("answers 429 with Retry-After to logins past the budget of an address", async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await app.request("/v1/auth/login", {
        method: "POST",
        body: JSON.stringify({ email: "nobody@example.com", password: "whatever password" }),
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await last!.json()).toMatchObject({ code: "rate_limited" });
  });

  it("counts reads with wrong keys against the address, so guessing keys is throttled too", async () => {
    const guesses = newApp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await guesses.request("/v1/read/shop/a", {
        headers: { authorization: `Bearer cfgk_guess${i}${"0".repeat(30)}` },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it("answers 429 to app reads past the budget of a key", async () => {
    await node.service.createProject("shop", "test");
    const { key } = await identity.createApiKey("shop", "app", {
      subject: "admin",
      admin: true,
      kind: "admin-token",
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await app.request("/v1/read/shop/a", { headers: { authorization: `Bearer ${key}` } });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 4)).toEqual([404, 404, 404, 404]);
    expect(statuses.slice(4)).toEqual([429, 429]);
  });

  it("sends security headers", async () => {
    const response = await app.request("/healthz");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });
});
