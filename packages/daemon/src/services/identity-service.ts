/**
 * Use cases of identity and access: bootstrap, login with lockout, refresh, logout, CI tokens,
 * users, project members, API keys, and authentication of every bearer credential. Secrets are
 * handed out once and only their hashes reach the MetadataStore.
 */
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { CfgError } from "@cfguardian/shared";
import { AccessTokens } from "../auth/access-tokens.js";
import type { Authenticator, Principal } from "../auth/authenticator.js";
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from "../auth/password.js";
import {
  API_KEY_PREFIX,
  CI_TOKEN_PREFIX,
  newSecret,
  REFRESH_TOKEN_PREFIX,
  sha256Hex,
} from "../auth/secrets.js";
import type { Logger } from "../logger.js";
import type {
  ApiKeyRecord,
  MemberRecord,
  MetadataStore,
  Role,
  TokenRecord,
  UserRecord,
} from "../metadata/port.js";
import {
  checkEmail,
  checkName,
  checkRole,
  EMAIL,
  type LoginResult,
  type PublicApiKey,
  type PublicToken,
  type PublicUser,
  publicKey,
  publicToken,
  publicUser,
} from "./identity-views.js";

export const REFRESH_TOKEN_DAYS = 30;
/** Failed logins in a row before the account is locked; each further failure doubles the lock. */
export const LOCKOUT_AFTER = 5;
const LOCK_BASE_MS = 30_000;
const LOCK_MAX_MS = 15 * 60_000;
/** API keys' last use is written at most this often per key (each write is a replicated command). */
const TOUCH_EVERY_MS = 60_000;
/**
 * While the metadata store is unavailable (PostgreSQL down), an API key this node verified within
 * this long still reads its project's configs: apps keep their config through a database outage.
 * A key revoked before the outage and not used on this node since could read on for as long.
 */
export const API_KEY_OUTAGE_GRACE_MS = 15 * 60_000;
const KNOWN_KEYS_MAX = 10_000;

export class IdentityService implements Authenticator {
  readonly tokens: AccessTokens;
  /** One-time code that creates the first admin when no user exists and none was configured. */
  private bootstrapCode: string | null = null;
  private readonly touched = new Map<string, number>();
  /** API keys verified on this node, by SHA-256: the principal and when (see API_KEY_OUTAGE_GRACE_MS). */
  private readonly knownKeys = new Map<string, { principal: Principal; at: number }>();
  /** Cluster mode: how a follower, which cannot propose, has the leader record a key's use. */
  private relay: ((bearer: string) => Promise<void>) | undefined;

  constructor(
    readonly store: MetadataStore,
    private readonly options: {
      /** The node-local break-glass admin token (a cluster admin), if kept. */
      adminToken?: Authenticator;
      /** The bootstrap code to print (a cluster derives one for all members); default: random. */
      bootstrapCode?: string;
      logger: Logger;
      now?: () => Date;
    },
  ) {
    this.tokens = new AccessTokens(store, this.now);
  }

  private readonly now = (): Date => this.options.now?.() ?? new Date();
  private iso = () => this.now().toISOString();

  /**
   * First start: create the configured admin, or print a one-time bootstrap code; make the first
   * signing key. Never a default password. Idempotent, so every node of a cluster may run it.
   */
  async bootstrap(admin?: { email: string; password: string }): Promise<void> {
    await this.tokens.ensureKey();
    if ((await this.store.listUsers()).length > 0) return;
    if (admin) {
      try {
        await this.createUser({ email: admin.email, password: admin.password, clusterAdmin: true });
        this.options.logger.info("bootstrap admin created", { email: admin.email.toLowerCase() });
      } catch (error) {
        if (!(error instanceof CfgError && error.code === "conflict")) throw error;
      }
      return;
    }
    this.bootstrapCode = this.options.bootstrapCode ?? randomBytes(18).toString("base64url");
    this.options.logger.warn(
      `no user exists yet: create the first admin with \`cfg login --bootstrap-code ${this.bootstrapCode}\` (or POST /v1/auth/bootstrap {code, email, password}); the code works once`,
    );
  }

  /** Create the first cluster admin with the code printed at start. */
  async redeemBootstrapCode(code: unknown, email: unknown, password: unknown): Promise<PublicUser> {
    const expected = this.bootstrapCode;
    const given = typeof code === "string" ? code : "";
    if (
      !expected ||
      given.length !== expected.length ||
      !timingSafeEqual(Buffer.from(given), Buffer.from(expected))
    ) {
      throw new CfgError("unauthorized", "invalid or used bootstrap code; see the cfgd log of this node");
    }
    if ((await this.store.listUsers()).length > 0) {
      this.bootstrapCode = null;
      throw new CfgError("conflict", "an admin exists already; log in with `cfg login`");
    }
    const user = await this.createUser({ email, password, clusterAdmin: true });
    this.bootstrapCode = null;
    return user;
  }

  // --- credentials -----------------------------------------------------------------------------

  /**
   * `allowExpired`: for a stream opened with a valid access token (a watch), an expired one still
   * counts while its session lives; a new request always needs an unexpired token.
   */
  async authenticate(bearer: string, options: { allowExpired?: boolean } = {}): Promise<Principal | null> {
    const admin = await this.options.adminToken?.authenticate(bearer);
    if (admin) return admin;
    if (bearer.length > 4096) return null;
    if (bearer.startsWith(API_KEY_PREFIX)) return this.apiKeyPrincipal(bearer);
    if (bearer.startsWith(CI_TOKEN_PREFIX)) {
      const token = await this.liveToken(bearer, "ci");
      if (!token) return null;
      const user = await this.store.getUser(token.userId);
      return user ? { ...this.userPrincipal(user), tokenId: token.id } : null;
    }
    const claims = await this.tokens.verify(bearer, options);
    if (!claims) return null;
    if (claims.sessionId) {
      const session = await this.store.getToken(claims.sessionId);
      if (!session || session.revokedAt) return null;
    }
    const user = await this.store.getUser(claims.userId);
    if (!user) return null;
    return { ...this.userPrincipal(user), ...(claims.sessionId ? { sessionId: claims.sessionId } : {}) };
  }

  private userPrincipal(user: UserRecord): Principal {
    return { subject: user.email, admin: user.clusterAdmin, kind: "user", userId: user.id };
  }

  private async apiKeyPrincipal(bearer: string): Promise<Principal | null> {
    const hash = sha256Hex(bearer);
    let key: ApiKeyRecord | null;
    try {
      key = await this.store.findApiKeyByHash(hash);
    } catch (error) {
      const known = this.knownKeys.get(hash);
      const unavailable = error instanceof CfgError && error.code === "unavailable";
      if (unavailable && known && this.now().getTime() - known.at <= API_KEY_OUTAGE_GRACE_MS) {
        return known.principal;
      }
      throw error;
    }
    if (!key || key.revokedAt) {
      this.knownKeys.delete(hash);
      return null;
    }
    const nowMs = this.now().getTime();
    const last = Math.max(this.touched.get(key.id) ?? 0, key.lastUsedAt ? Date.parse(key.lastUsedAt) : 0);
    if (nowMs - last > TOUCH_EVERY_MS) {
      this.touched.set(key.id, nowMs);
      // Best effort and off the read path. A follower cannot propose: it asks the leader to see the
      // key once (GET /v1/auth/me with it), and the leader records the use.
      this.store.touchApiKey(key.id, new Date(nowMs).toISOString()).catch((error) => {
        if (error instanceof CfgError && error.code === "not_leader" && this.relay) {
          this.relay(bearer).catch(() => this.touched.delete(key.id));
        } else this.touched.delete(key.id);
      });
    }
    const principal: Principal = {
      subject: `apikey:${key.id}`,
      admin: false,
      kind: "apikey",
      project: key.project,
    };
    this.knownKeys.delete(hash); // re-inserted last: the oldest entries go first when full
    this.knownKeys.set(hash, { principal, at: nowMs });
    if (this.knownKeys.size > KNOWN_KEYS_MAX) this.knownKeys.delete(this.knownKeys.keys().next().value!);
    return principal;
  }

  private async liveToken(secret: string, kind: TokenRecord["kind"]): Promise<TokenRecord | null> {
    const token = await this.store.findTokenByHash(sha256Hex(secret));
    if (!token || token.kind !== kind || token.revokedAt) return null;
    if (token.expiresAt && Date.parse(token.expiresAt) <= this.now().getTime()) return null;
    return token;
  }

  /** Cluster mode: `relay(bearer)` shows a key to the leader, which records its use. */
  relayTouches(relay: (bearer: string) => Promise<void>): void {
    this.relay = relay;
  }

  /** The role of a principal in a project: admins (cluster) are project admins everywhere. */
  async roleOf(principal: Principal, project: string): Promise<Role | null> {
    if (principal.admin) return "admin";
    if (principal.kind === "apikey") return principal.project === project ? "viewer" : null;
    return principal.userId ? this.store.roleOf(project, principal.userId) : null;
  }

  /** The projects a principal may see listed; null: all of them. */
  async visibleProjects(principal: Principal): Promise<Set<string> | null> {
    if (principal.admin) return null;
    if (principal.kind === "apikey") return new Set(principal.project ? [principal.project] : []);
    if (!principal.userId) return new Set();
    return new Set((await this.store.membershipsOf(principal.userId)).map((m) => m.project));
  }

  /** A deleted project's members and API keys go with it (a new project of that name starts empty). */
  forgetProject(project: string): Promise<void> {
    return this.store.removeProject(project);
  }

  // --- login, refresh, logout ------------------------------------------------------------------

  async login(emailInput: unknown, password: unknown): Promise<LoginResult> {
    const refused = () => new CfgError("unauthorized", "wrong email or password");
    if (typeof emailInput !== "string" || typeof password !== "string") {
      throw new CfgError("bad_request", "send {email, password}");
    }
    const user = EMAIL.test(emailInput) ? await this.store.findUserByEmail(emailInput.toLowerCase()) : null;
    const nowMs = this.now().getTime();
    if (user?.lockedUntil && Date.parse(user.lockedUntil) > nowMs) {
      const seconds = Math.ceil((Date.parse(user.lockedUntil) - nowMs) / 1000);
      throw new CfgError("rate_limited", `too many failed logins; try again in ${seconds} s`, {
        retryAfter: seconds,
      });
    }
    // Unknown users cost the same scrypt as known ones, so timing does not tell them apart.
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user) throw refused();
    if (!ok) {
      const failed = user.failedLogins + 1;
      const lockMs =
        failed >= LOCKOUT_AFTER ? Math.min(LOCK_BASE_MS * 2 ** (failed - LOCKOUT_AFTER), LOCK_MAX_MS) : 0;
      await this.store.setLoginState(user.id, failed, lockMs ? new Date(nowMs + lockMs).toISOString() : null);
      throw refused();
    }
    if (user.failedLogins > 0 || user.lockedUntil) await this.store.setLoginState(user.id, 0, null);
    return this.session(user);
  }

  private refreshExpiry(): string {
    return new Date(this.now().getTime() + REFRESH_TOKEN_DAYS * 86_400_000).toISOString();
  }

  /** A new session (a refresh token record) and its first access token. */
  private async session(user: UserRecord): Promise<LoginResult> {
    const refreshToken = newSecret(REFRESH_TOKEN_PREFIX);
    const id = randomUUID();
    await this.store.createToken({
      id,
      userId: user.id,
      kind: "refresh",
      name: "login",
      hash: sha256Hex(refreshToken),
      createdAt: this.iso(),
      expiresAt: this.refreshExpiry(),
      revokedAt: null,
    });
    return this.tokensFor(user, id, refreshToken);
  }

  private async tokensFor(user: UserRecord, id: string, refreshToken: string): Promise<LoginResult> {
    return {
      accessToken: await this.tokens.sign({ userId: user.id, sessionId: id }),
      refreshToken,
      expiresIn: this.tokens.lifetimeSeconds,
      tokenType: "Bearer",
      user: publicUser(user),
    };
  }

  /**
   * A new access token and a new refresh token in the same session: the old refresh token is
   * spent, and access tokens already handed out in the session stay valid until they expire (a
   * second `cfg` running meanwhile keeps working). Logout ends the whole session.
   */
  async refresh(refreshToken: unknown): Promise<LoginResult> {
    if (typeof refreshToken !== "string") throw new CfgError("bad_request", "send {refreshToken}");
    const refused = () =>
      new CfgError("unauthorized", "the refresh token is invalid, expired or revoked; run `cfg login`");
    const token = await this.liveToken(refreshToken, "refresh");
    if (!token) throw refused();
    const user = await this.store.getUser(token.userId);
    const next = newSecret(REFRESH_TOKEN_PREFIX);
    if (
      !user ||
      !(await this.store.rotateToken(token.id, token.hash, sha256Hex(next), this.refreshExpiry()))
    ) {
      throw refused();
    }
    return this.tokensFor(user, token.id, next);
  }

  /** End the caller's session (its access token stops working at once) or the given refresh token. */
  async logout(principal: Principal, refreshToken?: unknown): Promise<{ loggedOut: boolean }> {
    let id = principal.sessionId;
    if (typeof refreshToken === "string") {
      const token = await this.store.findTokenByHash(sha256Hex(refreshToken));
      if (token && token.userId === principal.userId) id = token.id;
    }
    return { loggedOut: id ? await this.store.revokeToken(id, this.iso()) : false };
  }

  // --- CI tokens -------------------------------------------------------------------------------

  async createCiToken(
    principal: Principal,
    name: unknown,
    expiresInDays?: unknown,
  ): Promise<PublicToken & { token: string }> {
    const userId = this.requireUser(principal);
    const label = checkName(name ?? "ci", "token name");
    let expiresAt: string | null = null;
    if (expiresInDays !== undefined && expiresInDays !== null) {
      if (
        !Number.isInteger(expiresInDays) ||
        (expiresInDays as number) < 1 ||
        (expiresInDays as number) > 3650
      ) {
        throw new CfgError("bad_request", "expiresInDays must be an integer from 1 to 3650");
      }
      expiresAt = new Date(this.now().getTime() + (expiresInDays as number) * 86_400_000).toISOString();
    }
    const token = newSecret(CI_TOKEN_PREFIX);
    const record: TokenRecord = {
      id: randomUUID(),
      userId,
      kind: "ci",
      name: label,
      hash: sha256Hex(token),
      createdAt: this.iso(),
      expiresAt,
      revokedAt: null,
    };
    await this.store.createToken(record);
    return { ...publicToken(record), token };
  }

  async listTokens(principal: Principal): Promise<{ items: PublicToken[] }> {
    if (!principal.userId) return { items: [] };
    const tokens = await this.store.listTokens(principal.userId);
    return { items: tokens.filter((t) => t.kind === "ci").map(publicToken) };
  }

  async revokeToken(principal: Principal, id: string): Promise<{ revoked: string }> {
    const token = await this.store.getToken(id);
    if (!token || (token.userId !== principal.userId && !principal.admin) || token.revokedAt) {
      throw new CfgError("not_found", `no live token ${id}; see 'cfg token list'`);
    }
    await this.store.revokeToken(id, this.iso());
    return { revoked: id };
  }

  private requireUser(principal: Principal): string {
    if (!principal.userId) {
      throw new CfgError("bad_request", "only a user can hold tokens; log in as one with `cfg login`");
    }
    return principal.userId;
  }

  // --- users -----------------------------------------------------------------------------------

  async createUser(input: {
    email: unknown;
    password: unknown;
    clusterAdmin?: unknown;
  }): Promise<PublicUser> {
    const email = checkEmail(input.email);
    const problem = passwordProblem(input.password);
    if (problem) throw new CfgError("bad_request", problem);
    if (input.clusterAdmin !== undefined && typeof input.clusterAdmin !== "boolean") {
      throw new CfgError("bad_request", "clusterAdmin must be true or false");
    }
    const user = await this.store.createUser({
      id: randomUUID(),
      email,
      passwordHash: await hashPassword(input.password as string),
      clusterAdmin: input.clusterAdmin === true,
      createdAt: this.iso(),
      failedLogins: 0,
      lockedUntil: null,
    });
    return publicUser(user);
  }

  async listUsers(): Promise<{ items: PublicUser[] }> {
    return { items: (await this.store.listUsers()).map(publicUser) };
  }

  async getUser(id: string): Promise<PublicUser> {
    const user = await this.store.getUser(id);
    if (!user) throw new CfgError("not_found", `user ${id} does not exist; see 'cfg user list'`);
    return publicUser(user);
  }

  /** Change your own password (with the current one); every session of yours ends. */
  async changeOwnPassword(principal: Principal, input: { password: unknown; currentPassword: unknown }) {
    if (!principal.userId) throw new CfgError("bad_request", "only a user has a password; log in as one");
    const problem = passwordProblem(input.password);
    if (problem) throw new CfgError("bad_request", problem);
    const user = await this.store.getUser(principal.userId);
    const current = typeof input.currentPassword === "string" ? input.currentPassword : "";
    if (!user || !(await verifyPassword(current, user.passwordHash))) {
      throw new CfgError("forbidden", "the current password is wrong; nothing was changed");
    }
    return this.setPassword(user.id, input.password as string);
  }

  /** A cluster admin sets a user's password; every session of the user ends (CI tokens stay). */
  async setPassword(id: string, password: unknown): Promise<{ updated: string; sessionsEnded: number }> {
    const problem = passwordProblem(password);
    if (problem) throw new CfgError("bad_request", problem);
    if (!(await this.store.getUser(id))) throw new CfgError("not_found", `user ${id} does not exist`);
    await this.store.setPassword(id, await hashPassword(password as string));
    let ended = 0;
    for (const token of await this.store.listTokens(id)) {
      if (
        token.kind === "refresh" &&
        !token.revokedAt &&
        (await this.store.revokeToken(token.id, this.iso()))
      ) {
        ended++;
      }
    }
    return { updated: id, sessionsEnded: ended };
  }

  async deleteUser(principal: Principal, id: string): Promise<{ deleted: string }> {
    if (principal.userId === id) throw new CfgError("bad_request", "you cannot delete yourself");
    if (!(await this.store.deleteUser(id))) throw new CfgError("not_found", `user ${id} does not exist`);
    return { deleted: id };
  }

  /** A user by id, or by email when it contains `@`. */
  async resolveUser(idOrEmail: string): Promise<UserRecord> {
    const user = idOrEmail.includes("@")
      ? await this.store.findUserByEmail(idOrEmail.toLowerCase())
      : await this.store.getUser(idOrEmail);
    if (!user) throw new CfgError("not_found", `user ${idOrEmail} does not exist; see 'cfg user list'`);
    return user;
  }

  // --- members ---------------------------------------------------------------------------------

  async listMembers(project: string): Promise<{ items: (MemberRecord & { email: string })[] }> {
    const members = await this.store.listMembers(project);
    const users = new Map((await this.store.listUsers()).map((u) => [u.id, u.email]));
    return { items: members.map((m) => ({ ...m, email: users.get(m.userId) ?? "" })) };
  }

  async setMember(project: string, userIdOrEmail: string, role: unknown): Promise<MemberRecord> {
    const checked = checkRole(role);
    const user = await this.resolveUser(userIdOrEmail);
    const member = { project, userId: user.id, role: checked };
    await this.store.setMember(member);
    return member;
  }

  async removeMember(project: string, userIdOrEmail: string): Promise<{ removed: string }> {
    const user = await this.resolveUser(userIdOrEmail);
    if (!(await this.store.removeMember(project, user.id))) {
      throw new CfgError("not_found", `${userIdOrEmail} is not a member of ${project}`);
    }
    return { removed: user.id };
  }

  // --- API keys --------------------------------------------------------------------------------

  async createApiKey(project: string, name: unknown, by: Principal): Promise<PublicApiKey & { key: string }> {
    const key = newSecret(API_KEY_PREFIX);
    const record: ApiKeyRecord = {
      id: randomUUID(),
      project,
      name: checkName(name, "API key name"),
      hash: sha256Hex(key),
      createdAt: this.iso(),
      createdBy: by.subject,
      revokedAt: null,
      lastUsedAt: null,
    };
    await this.store.createApiKey(record);
    return { ...publicKey(record), key };
  }

  async listApiKeys(project: string): Promise<{ items: PublicApiKey[] }> {
    return { items: (await this.store.listApiKeys(project)).map(publicKey) };
  }

  async revokeApiKey(project: string, id: string): Promise<{ revoked: string }> {
    if (!(await this.store.revokeApiKey(project, id, this.iso()))) {
      throw new CfgError("not_found", `no live API key ${id} in ${project}; see 'cfg apikey list'`);
    }
    return { revoked: id };
  }
}
