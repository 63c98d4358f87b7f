import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CfgError } from "@cfguardian/shared";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../auth/password.js";
import { openNode } from "../daemon.js";
import { silentLogger } from "../logger.js";
import { EmbeddedMetadataStore } from "../metadata/embedded/embedded-store.js";
import { API_KEY_OUTAGE_GRACE_MS, IdentityService } from "./identity-service.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "cfg-identity-"));
  const node = openNode(dir);
  closers.push(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const clock = { t: Date.parse("2026-03-01T00:00:00Z") };
  const store = new EmbeddedMetadataStore(node.log, node.machine.store.db, () => new Date(clock.t));
  const logs: string[] = [];
  const logger = { ...silentLogger, warn: (m: string) => logs.push(m), info: (m: string) => logs.push(m) };
  const identity = new IdentityService(store, { logger, now: () => new Date(clock.t) });
  return { identity, store, clock, logs };
}

const PASSWORD = "correct horse battery";

describe("passwords", () => {
  it("hash with scrypt, a salt each time, and verify", async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword("wrong password!", a)).toBe(false);
    expect(await verifyPassword(PASSWORD, "garbage")).toBe(false);
  });
});

describe("IdentityService", () => {
  it("bootstraps the configured admin once, or prints a one-time code; never a default password", async () => {
    const { identity, logs } = await setup();
    await identity.bootstrap();
    const code = /--bootstrap-code ([A-Za-z0-9_-]+)/.exec(logs.join("\n"))?.[1];
    expect(code).toBeDefined();
    await expect(identity.redeemBootstrapCode("nope", "a@x.io", PASSWORD)).rejects.toMatchObject({
      code: "unauthorized",
    });
    const admin = await identity.redeemBootstrapCode(code, "Admin@X.io", PASSWORD);
    expect(admin).toMatchObject({ email: "admin@x.io", clusterAdmin: true });
    await expect(identity.redeemBootstrapCode(code, "b@x.io", PASSWORD)).rejects.toMatchObject({
      code: "unauthorized",
    });
    await identity.bootstrap({ email: "other@x.io", password: PASSWORD });
    expect((await identity.listUsers()).items).toHaveLength(1);
  });

  it("logs in, authenticates the access token, refreshes once, and logs out at once", async () => {
    const { identity } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    const login = await identity.login("a@x.io", PASSWORD);
    expect(login.expiresIn).toBe(900);
    const me = await identity.authenticate(login.accessToken);
    expect(me).toMatchObject({ kind: "user", subject: "a@x.io", admin: true });
    const next = await identity.refresh(login.refreshToken);
    await expect(identity.refresh(login.refreshToken)).rejects.toMatchObject({ code: "unauthorized" });
    // Same session: an access token handed out before the refresh still works (another cfg running).
    expect(await identity.authenticate(login.accessToken)).not.toBeNull();
    const principal = (await identity.authenticate(next.accessToken))!;
    expect(await identity.logout(principal)).toEqual({ loggedOut: true });
    expect(await identity.authenticate(next.accessToken)).toBeNull();
    expect(await identity.authenticate(login.accessToken)).toBeNull();
    await expect(identity.refresh(next.refreshToken)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("refuses expired, forged and malformed tokens", async () => {
    const { identity, clock } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    const { accessToken } = await identity.login("a@x.io", PASSWORD);
    const [, payload] = accessToken.split(".");
    const forged = await new SignJWT(JSON.parse(Buffer.from(payload!, "base64url").toString()))
      .setProtectedHeader({
        alg: "HS256",
        kid: JSON.parse(Buffer.from(accessToken.split(".")[0]!, "base64url").toString()).kid,
      })
      .sign(Buffer.alloc(32, 1));
    expect(await identity.authenticate(forged)).toBeNull();
    expect(await identity.authenticate("a.b.c")).toBeNull();
    expect(await identity.authenticate("cfgk_nope")).toBeNull();
    expect(await identity.authenticate(`${accessToken.slice(0, -2)}xx`)).toBeNull();
    clock.t += 16 * 60_000;
    expect(await identity.authenticate(accessToken)).toBeNull();
    // An open stream may go on past expiry while the session lives, never with a forged token.
    expect(await identity.authenticate(accessToken, { allowExpired: true })).not.toBeNull();
    expect(await identity.authenticate(forged, { allowExpired: true })).toBeNull();
  });

  it("rotates the signing key; tokens of the old key verify until they expire", async () => {
    const { identity, clock } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    const old = await identity.login("a@x.io", PASSWORD);
    await identity.tokens.rotate();
    const fresh = await identity.login("a@x.io", PASSWORD);
    expect(await identity.authenticate(old.accessToken)).not.toBeNull();
    expect(await identity.authenticate(fresh.accessToken)).not.toBeNull();
    clock.t += 14 * 60_000;
    expect(await identity.authenticate(old.accessToken)).not.toBeNull();
    clock.t += 2 * 60_000;
    expect(await identity.authenticate(old.accessToken)).toBeNull();
  });

  it("locks an account after repeated wrong passwords, with a doubling backoff", async () => {
    const { identity, clock } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    for (let i = 0; i < 5; i++) {
      await expect(identity.login("a@x.io", "wrong password!")).rejects.toMatchObject({
        code: "unauthorized",
      });
    }
    await expect(identity.login("a@x.io", PASSWORD)).rejects.toMatchObject({ code: "rate_limited" });
    clock.t += 31_000;
    await expect(identity.login("a@x.io", "wrong password!")).rejects.toMatchObject({ code: "unauthorized" });
    clock.t += 31_000;
    await expect(identity.login("a@x.io", PASSWORD)).rejects.toMatchObject({ code: "rate_limited" });
    clock.t += 31_000;
    expect((await identity.login("a@x.io", PASSWORD)).accessToken).toBeTruthy();
    await expect(identity.login("nobody@x.io", PASSWORD)).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("changes a password with the current one and ends every session", async () => {
    const { identity } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    const login = await identity.login("a@x.io", PASSWORD);
    const me = (await identity.authenticate(login.accessToken))!;
    await expect(
      identity.changeOwnPassword(me, {
        currentPassword: "wrong password!",
        password: "a brand new password",
      }),
    ).rejects.toMatchObject({ code: "forbidden" });
    await expect(
      identity.changeOwnPassword(me, { currentPassword: PASSWORD, password: "short" }),
    ).rejects.toMatchObject({
      code: "bad_request",
    });
    expect(
      await identity.changeOwnPassword(me, { currentPassword: PASSWORD, password: "a brand new password" }),
    ).toEqual({
      updated: me.userId,
      sessionsEnded: 1,
    });
    expect(await identity.authenticate(login.accessToken)).toBeNull();
    await expect(identity.login("a@x.io", PASSWORD)).rejects.toMatchObject({ code: "unauthorized" });
    expect((await identity.login("a@x.io", "a brand new password")).accessToken).toBeTruthy();
  });

  it("issues CI tokens shown once and stored hashed; revoked ones stop at once", async () => {
    const { identity, store } = await setup();
    await identity.bootstrap({ email: "a@x.io", password: PASSWORD });
    const user = (await identity.authenticate((await identity.login("a@x.io", PASSWORD)).accessToken))!;
    const ci = await identity.createCiToken(user, "deploy");
    expect(ci.token).toMatch(/^cfgc_/);
    expect(JSON.stringify(await store.listTokens(user.userId!))).not.toContain(ci.token);
    expect(await identity.authenticate(ci.token)).toMatchObject({ kind: "user", tokenId: ci.id });
    await identity.revokeToken(user, ci.id);
    expect(await identity.authenticate(ci.token)).toBeNull();
  });

  it("scopes API keys to one project, read-only, and refuses revoked ones", async () => {
    const { identity } = await setup();
    const admin = { subject: "admin", admin: true, kind: "admin-token" as const };
    const created = await identity.createApiKey("shop", "web", admin);
    expect(created.key).toMatch(/^cfgk_/);
    const principal = (await identity.authenticate(created.key))!;
    expect(await identity.roleOf(principal, "shop")).toBe("viewer");
    expect(await identity.roleOf(principal, "other")).toBeNull();
    await identity.revokeApiKey("shop", created.id);
    expect(await identity.authenticate(created.key)).toBeNull();
  });

  it("keeps API keys it verified reading through a metadata outage, for a bounded time", async () => {
    const { store, clock } = await setup();
    let down = false;
    // The store as PostgreSQL behaves when the server cannot be reached.
    const flaky = new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== "findApiKeyByHash" || typeof value !== "function") return value;
        return (...args: unknown[]) =>
          down
            ? Promise.reject(new CfgError("unavailable", "the metadata database is unavailable"))
            : value.apply(target, args);
      },
    });
    const identity = new IdentityService(flaky, { logger: silentLogger, now: () => new Date(clock.t) });
    const admin = { subject: "admin", admin: true, kind: "admin-token" as const };
    const seen = await identity.createApiKey("shop", "web", admin);
    const unseen = await identity.createApiKey("shop", "batch", admin);
    const revoked = await identity.createApiKey("shop", "old", admin);
    expect(await identity.authenticate(seen.key)).toMatchObject({ kind: "apikey", project: "shop" });
    expect(await identity.authenticate(revoked.key)).not.toBeNull();
    await identity.revokeApiKey("shop", revoked.id);
    expect(await identity.authenticate(revoked.key)).toBeNull();

    down = true;
    expect(await identity.authenticate(seen.key)).toMatchObject({ kind: "apikey", project: "shop" });
    // Never verified here, or refused since: the outage is the answer.
    await expect(identity.authenticate(unseen.key)).rejects.toMatchObject({ code: "unavailable" });
    await expect(identity.authenticate(revoked.key)).rejects.toMatchObject({ code: "unavailable" });
    clock.t += API_KEY_OUTAGE_GRACE_MS + 1;
    await expect(identity.authenticate(seen.key)).rejects.toMatchObject({ code: "unavailable" });

    down = false;
    expect(await identity.authenticate(seen.key)).toMatchObject({ kind: "apikey" });
  });
});
