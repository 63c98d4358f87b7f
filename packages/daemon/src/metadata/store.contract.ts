/**
 * One behaviour suite for every MetadataStore: the embedded adapter (through the replicated log
 * into state.db) and the PostgreSQL adapter (a real server). An adapter that passes it can sit
 * under the identity service.
 */
import { CfgError } from "@cfguardian/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MetadataStore, UserRecord } from "./port.js";

export interface ContractHarness {
  store: MetadataStore;
  /** Close the store and drop whatever it created. */
  dispose(): Promise<void>;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();

const user = (id: string, email = `${id}@example.com`): UserRecord => ({
  id,
  email,
  passwordHash: `scrypt$16384$8$1$salt-${id}$hash-${id}`,
  clusterAdmin: false,
  createdAt: at(0),
  failedLogins: 0,
  lockedUntil: null,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "none";
  } catch (error) {
    if (error instanceof CfgError) return error.code;
    throw error;
  }
}

export function runMetadataStoreContractTests(name: string, make: () => Promise<ContractHarness>): void {
  describe(`${name} (MetadataStore contract)`, () => {
    let h: ContractHarness;
    let s: MetadataStore;
    beforeEach(async () => {
      h = await make();
      s = h.store;
    });
    afterEach(async () => {
      await h.dispose();
    });

    it("creates users, finds them by id and email, refuses a second user with the same email", async () => {
      await s.createUser(user("u1"));
      await s.createUser({ ...user("u2"), clusterAdmin: true });
      expect(await s.getUser("u1")).toEqual(user("u1"));
      expect(await s.findUserByEmail("u2@example.com")).toMatchObject({ id: "u2", clusterAdmin: true });
      expect(await s.findUserByEmail("nobody@example.com")).toBeNull();
      expect(await s.getUser("nobody")).toBeNull();
      expect(await codeOf(s.createUser(user("u3", "u1@example.com")))).toBe("conflict");
      expect((await s.listUsers()).map((u) => u.id)).toEqual(["u1", "u2"]);
    });

    it("keeps login failures, lockout and a new password", async () => {
      await s.createUser(user("u1"));
      await s.setLoginState("u1", 3, at(5));
      expect(await s.getUser("u1")).toMatchObject({ failedLogins: 3, lockedUntil: at(5) });
      await s.setLoginState("u1", 0, null);
      await s.setPassword("u1", "scrypt$new");
      expect(await s.getUser("u1")).toMatchObject({
        failedLogins: 0,
        lockedUntil: null,
        passwordHash: "scrypt$new",
      });
    });

    it("sets, changes and removes members; a member must be a user", async () => {
      await s.createUser(user("u1"));
      await s.createUser(user("u2"));
      await s.setMember({ project: "shop", userId: "u1", role: "viewer" });
      await s.setMember({ project: "shop", userId: "u1", role: "editor" });
      await s.setMember({ project: "shop", userId: "u2", role: "admin" });
      await s.setMember({ project: "other", userId: "u2", role: "viewer" });
      expect(await s.roleOf("shop", "u1")).toBe("editor");
      expect(await s.roleOf("other", "u1")).toBeNull();
      expect(await s.listMembers("shop")).toEqual([
        { project: "shop", userId: "u1", role: "editor" },
        { project: "shop", userId: "u2", role: "admin" },
      ]);
      expect(await s.membershipsOf("u2")).toEqual([
        { project: "other", userId: "u2", role: "viewer" },
        { project: "shop", userId: "u2", role: "admin" },
      ]);
      expect(await codeOf(s.setMember({ project: "shop", userId: "ghost", role: "viewer" }))).toBe(
        "not_found",
      );
      expect(await s.removeMember("shop", "u1")).toBe(true);
      expect(await s.removeMember("shop", "u1")).toBe(false);
      expect(await s.roleOf("shop", "u1")).toBeNull();
    });

    it("deleting a user removes their memberships and tokens", async () => {
      await s.createUser(user("u1"));
      await s.setMember({ project: "shop", userId: "u1", role: "admin" });
      await s.createToken({
        id: "t1",
        userId: "u1",
        kind: "ci",
        name: "deploy",
        hash: "h-t1",
        createdAt: at(1),
        expiresAt: null,
        revokedAt: null,
      });
      expect(await s.deleteUser("u1")).toBe(true);
      expect(await s.deleteUser("u1")).toBe(false);
      expect(await s.getUser("u1")).toBeNull();
      expect(await s.listMembers("shop")).toEqual([]);
      expect(await s.findTokenByHash("h-t1")).toBeNull();
    });

    it("stores API keys by hash, lists them per project, records last use and revokes", async () => {
      const key = {
        id: "k1",
        project: "shop",
        name: "web",
        hash: "a".repeat(64),
        createdAt: at(1),
        createdBy: "user:u1",
        revokedAt: null,
        lastUsedAt: null,
      };
      await s.createApiKey(key);
      await s.createApiKey({ ...key, id: "k2", project: "other", hash: "b".repeat(64) });
      expect(await s.findApiKeyByHash("a".repeat(64))).toEqual(key);
      expect(await s.findApiKeyByHash("c".repeat(64))).toBeNull();
      expect((await s.listApiKeys("shop")).map((k) => k.id)).toEqual(["k1"]);
      await s.touchApiKey("k1", at(2));
      expect((await s.findApiKeyByHash("a".repeat(64)))?.lastUsedAt).toBe(at(2));
      expect(await s.revokeApiKey("other", "k1", at(3))).toBe(false);
      expect(await s.revokeApiKey("shop", "k1", at(3))).toBe(true);
      expect(await s.revokeApiKey("shop", "k1", at(4))).toBe(false);
      expect((await s.findApiKeyByHash("a".repeat(64)))?.revokedAt).toBe(at(3));
      expect(await codeOf(s.createApiKey({ ...key, id: "k3" }))).toBe("conflict");
    });

    it("forgets a deleted project's members and API keys", async () => {
      await s.createUser(user("u1"));
      await s.setMember({ project: "shop", userId: "u1", role: "admin" });
      await s.setMember({ project: "keep", userId: "u1", role: "admin" });
      await s.createApiKey({
        id: "k1",
        project: "shop",
        name: "web",
        hash: "a".repeat(64),
        createdAt: at(1),
        createdBy: "user:u1",
        revokedAt: null,
        lastUsedAt: null,
      });
      await s.removeProject("shop");
      expect(await s.listMembers("shop")).toEqual([]);
      expect(await s.listApiKeys("shop")).toEqual([]);
      expect(await s.roleOf("keep", "u1")).toBe("admin");
    });

    it("stores tokens by hash, lists a user's tokens, revokes once", async () => {
      await s.createUser(user("u1"));
      const token = {
        id: "t1",
        userId: "u1",
        kind: "refresh" as const,
        name: "login",
        hash: "h1",
        createdAt: at(1),
        expiresAt: at(60),
        revokedAt: null,
      };
      await s.createToken(token);
      await s.createToken({ ...token, id: "t2", kind: "ci", name: "deploy", hash: "h2", expiresAt: null });
      expect(await s.findTokenByHash("h1")).toEqual(token);
      expect(await s.getToken("t1")).toEqual(token);
      expect(await codeOf(s.createToken({ ...token, id: "t9" }))).toBe("conflict");
      expect(await s.getToken("nope")).toBeNull();
      expect((await s.listTokens("u1")).map((t) => t.id)).toEqual(["t1", "t2"]);
      // A refresh: the hash changes once; the old one is spent.
      expect(await s.rotateToken("t1", "h1", "h1b", at(90))).toBe(true);
      expect(await s.rotateToken("t1", "h1", "h1c", at(91))).toBe(false);
      expect(await s.findTokenByHash("h1")).toBeNull();
      expect(await s.findTokenByHash("h1b")).toMatchObject({ id: "t1", expiresAt: at(90) });
      expect(await s.revokeToken("t2", at(2))).toBe(true);
      expect(await s.revokeToken("t2", at(3))).toBe(false);
      expect((await s.findTokenByHash("h2"))?.revokedAt).toBe(at(2));
      expect(await s.revokeToken("nope", at(3))).toBe(false);
    });

    it("rotates signing keys: the new one first, the old one retired at the rotation", async () => {
      expect(await s.listSigningKeys()).toEqual([]);
      await s.rotateSigningKey({ id: "s1", secret: "one", createdAt: at(1), retiredAt: null });
      await s.rotateSigningKey({ id: "s2", secret: "two", createdAt: at(2), retiredAt: null });
      expect(await s.listSigningKeys()).toEqual([
        { id: "s2", secret: "two", createdAt: at(2), retiredAt: null },
        { id: "s1", secret: "one", createdAt: at(1), retiredAt: at(2) },
      ]);
    });

    it("appends audit records in order and queries them newest first, by project and actor, with paging", async () => {
      for (let i = 0; i < 5; i++) {
        await s.appendAudit({
          id: `a${i}`,
          at: at(i),
          actor: i % 2 === 0 ? "user:u1" : "apikey:k1",
          action: "push",
          project: i < 3 ? "shop" : "other",
          target: null,
          address: "127.0.0.1",
          result: i === 4 ? "refused" : "ok",
          detail: i === 4 ? "403 forbidden" : null,
        });
      }
      const all = await s.listAudit();
      expect(all.map((r) => r.id)).toEqual(["a4", "a3", "a2", "a1", "a0"]);
      expect(all[0]).toMatchObject({ result: "refused", detail: "403 forbidden", address: "127.0.0.1" });
      expect((await s.listAudit({ project: "shop" })).map((r) => r.id)).toEqual(["a2", "a1", "a0"]);
      expect((await s.listAudit({ actor: "apikey:k1" })).map((r) => r.id)).toEqual(["a3", "a1"]);
      const page = await s.listAudit({ limit: 2 });
      expect(page.map((r) => r.id)).toEqual(["a4", "a3"]);
      const next = await s.listAudit({ limit: 2, before: page[1]!.seq });
      expect(next.map((r) => r.id)).toEqual(["a2", "a1"]);
    });

    it("keeps SQL-looking text as plain data", async () => {
      const evil = "x'); DROP TABLE users; --@example.com";
      await s.createUser(user("u1", evil));
      expect((await s.findUserByEmail(evil))?.id).toBe("u1");
      await s.setMember({ project: "p'; DELETE FROM members; --", userId: "u1", role: "viewer" });
      expect(await s.roleOf("p'; DELETE FROM members; --", "u1")).toBe("viewer");
      expect((await s.listUsers()).length).toBe(1);
    });
  });
}
