/**
 * The MetadataStore port: users, project members, API keys, tokens, signing keys and the audit
 * log. Two adapters implement it: embedded (commands replicated through Raft into state.db) and
 * PostgreSQL (shared by every node). Both pass `store.contract.ts`.
 *
 * Callers fix ids and times before calling (the embedded adapter replicates them as they are, so
 * every node stores the same row). Secrets arrive already hashed: no adapter ever sees a password,
 * an API key or a token in clear. Refusals are CfgErrors (`conflict`, `not_found`); a store that
 * cannot be reached throws CfgError `unavailable`.
 */

/** A role in one project; each includes the ones before it. */
export type Role = "viewer" | "editor" | "admin";

export const ROLES: readonly Role[] = ["viewer", "editor", "admin"];

export interface UserRecord {
  id: string;
  /** Lower-cased; unique. */
  email: string;
  /** `scrypt$N$r$p$salt$hash` (auth/password.ts); never a clear password. */
  passwordHash: string;
  clusterAdmin: boolean;
  createdAt: string;
  /** Consecutive failed logins since the last success. */
  failedLogins: number;
  /** ISO time until which logins are refused, or null. */
  lockedUntil: string | null;
}

export interface MemberRecord {
  project: string;
  userId: string;
  role: Role;
}

export interface ApiKeyRecord {
  id: string;
  project: string;
  name: string;
  /** SHA-256 (hex) of the whole key. */
  hash: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** `refresh`: from a login, short-lived; `ci`: POST /v1/tokens, long-lived. */
export type TokenKind = "refresh" | "ci";

export interface TokenRecord {
  id: string;
  userId: string;
  kind: TokenKind;
  name: string;
  /** SHA-256 (hex) of the whole token. */
  hash: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A key that signs access tokens; the newest unretired one signs, retired ones still verify until `retiredAt` + the access token lifetime. */
export interface SigningKeyRecord {
  id: string;
  /** base64url of 32 random bytes (HS256). */
  secret: string;
  createdAt: string;
  retiredAt: string | null;
}

export type AuditResult = "ok" | "refused" | "failed";

export interface AuditRecord {
  /** Assigned by the store, increasing: the order of the log. */
  seq: number;
  id: string;
  at: string;
  /** Who: `user:<id>`, `apikey:<id>`, `token:<id>`, `admin-token`, or `anonymous`. */
  actor: string;
  /** What: a verb such as `project.create`, `push`, `member.set`, `auth.login`. */
  action: string;
  project: string | null;
  /** The object acted on (a key, a user id, an API key id); never a secret. */
  target: string | null;
  /** The caller's address. */
  address: string | null;
  result: AuditResult;
  /** HTTP status or error code, for refused and failed actions. */
  detail: string | null;
}

export type NewAuditRecord = Omit<AuditRecord, "seq">;

export interface AuditQuery {
  /** At most this many, newest first (default 100, at most 1000). */
  limit?: number;
  /** Only records with seq below this (paging backwards). */
  before?: number;
  project?: string;
  actor?: string;
}

export interface MetadataStore {
  /**
   * embedded: replicated through the Raft log into state.db, so an audit record can ride in the
   * config command it describes; postgres: an outside database.
   */
  readonly kind: "embedded" | "postgres";
  createUser(user: UserRecord): Promise<UserRecord>;
  getUser(id: string): Promise<UserRecord | null>;
  findUserByEmail(email: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** Removes the user with their memberships and tokens; false when there was none. */
  deleteUser(id: string): Promise<boolean>;
  setLoginState(userId: string, failedLogins: number, lockedUntil: string | null): Promise<void>;
  setPassword(userId: string, passwordHash: string): Promise<void>;

  /** Adds or changes a membership; not_found when the user does not exist. */
  setMember(member: MemberRecord): Promise<void>;
  removeMember(project: string, userId: string): Promise<boolean>;
  listMembers(project: string): Promise<MemberRecord[]>;
  roleOf(project: string, userId: string): Promise<Role | null>;
  /** Every project the user is a member of, by project name. */
  membershipsOf(userId: string): Promise<MemberRecord[]>;
  /** Forget a deleted project's members and API keys. */
  removeProject(project: string): Promise<void>;

  createApiKey(key: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null>;
  listApiKeys(project: string): Promise<ApiKeyRecord[]>;
  /** false when the project has no such key (or it was already revoked). */
  revokeApiKey(project: string, id: string, at: string): Promise<boolean>;
  touchApiKey(id: string, at: string): Promise<void>;

  createToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | null>;
  getToken(id: string): Promise<TokenRecord | null>;
  listTokens(userId: string): Promise<TokenRecord[]>;
  /** false when there is no such live token. */
  revokeToken(id: string, at: string): Promise<boolean>;
  /**
   * Replace a live token's hash (and expiry) if it still has `oldHash`: a refresh keeps its session
   * and spends the old refresh token; false when it was already spent or revoked.
   */
  rotateToken(id: string, oldHash: string, newHash: string, expiresAt: string | null): Promise<boolean>;

  /** Add a signing key and retire every other unretired one at `key.createdAt`. */
  rotateSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Newest first. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;

  appendAudit(record: NewAuditRecord): Promise<void>;
  listAudit(query?: AuditQuery): Promise<AuditRecord[]>;

  close(): Promise<void>;
}

export const clampAuditLimit = (limit: number | undefined): number =>
  Math.min(Math.max(Math.trunc(limit ?? 100) || 100, 1), 1000);
