/**
 * The PostgreSQL MetadataStore: one database shared by every node (`--database-url`). Migrations
 * run at open under an advisory lock; if the server cannot be reached they are retried on the next
 * call, so a node starts (and serves config reads) while PostgreSQL is away, answers `unavailable`
 * where metadata is needed, and recovers by itself when it is back.
 */
import { CfgError } from "@cfguardian/shared";
import pg from "pg";
import {
  type ApiKeyRecord,
  type AuditQuery,
  type AuditRecord,
  clampAuditLimit,
  type MemberRecord,
  type MetadataStore,
  type NewAuditRecord,
  type Role,
  type SigningKeyRecord,
  type TokenRecord,
  type UserRecord,
} from "../port.js";
import { type Row, text, toApiKey, toAudit, toToken, toUser } from "../rows.js";
import { migrate } from "./migrations.js";

export interface PostgresStoreOptions {
  url: string;
  /** A schema to work in (created if missing); default: the connection's search_path. */
  schema?: string;
  /** Pool size per node (default 10). */
  max?: number;
}

/** Connection-level failures (as opposed to a refused statement) mean the store is unavailable. */
function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (typeof e.code === "string") {
    if (/^(ECONN|ENOTFOUND|ETIMEDOUT|EPIPE|EHOSTUNREACH|EAI_AGAIN)/.test(e.code)) return true;
    if (/^(08|57P)/.test(e.code)) return true;
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(
    e.message ?? "",
  );
}

export class PostgresMetadataStore implements MetadataStore {
  readonly kind = "postgres" as const;

  private readonly pool: pg.Pool;
  private migrated: Promise<void> | null = null;

  constructor(private readonly options: PostgresStoreOptions) {
    if (options.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new Error(`schema name ${JSON.stringify(options.schema)} must match [a-z_][a-z0-9_]*`);
    }
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.max ?? 10,
      connectionTimeoutMillis: 3_000,
      idleTimeoutMillis: 30_000,
      ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    });
    // A dropped idle connection must not crash the process; the next query reconnects.
    this.pool.on("error", () => {});
  }

  /** Connect and migrate; throws CfgError unavailable when the server cannot be reached. */
  async open(): Promise<void> {
    await this.ready();
  }

  private ready(): Promise<void> {
    this.migrated ??= (async () => {
      const client = await this.pool.connect();
      try {
        await migrate(client, this.options.schema);
      } finally {
        client.release();
      }
    })().catch((error) => {
      this.migrated = null;
      throw error;
    });
    return this.migrated;
  }

  private async q(sql: string, params: unknown[] = []): Promise<pg.QueryResult<Row>> {
    try {
      await this.ready();
      return await this.pool.query<Row>(sql, params);
    } catch (error) {
      if (error instanceof CfgError) throw error;
      const code = (error as { code?: string }).code;
      if (code === "23505") throw new CfgError("conflict", "already exists");
      if (code === "23503") throw new CfgError("not_found", "the user does not exist");
      if (isConnectionError(error)) {
        throw new CfgError("unavailable", "the metadata database (PostgreSQL) is unavailable; retry later");
      }
      throw error;
    }
  }

  async createUser(user: UserRecord): Promise<UserRecord> {
    try {
      await this.q(
        "INSERT INTO users (id, email, password_hash, cluster_admin, created_at, failed_logins, locked_until) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        [
          user.id,
          user.email,
          user.passwordHash,
          user.clusterAdmin,
          user.createdAt,
          user.failedLogins,
          user.lockedUntil,
        ],
      );
    } catch (error) {
      if (error instanceof CfgError && error.code === "conflict")
        throw new CfgError("conflict", `a user with email ${user.email} already exists`);
      throw error;
    }
    return user;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const { rows } = await this.q("SELECT * FROM users WHERE id = $1", [id]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const { rows } = await this.q("SELECT * FROM users WHERE email = $1", [email]);
    return rows[0] ? toUser(rows[0]) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.q("SELECT * FROM users ORDER BY id")).rows.map(toUser);
  }

  async deleteUser(id: string): Promise<boolean> {
    return ((await this.q("DELETE FROM users WHERE id = $1", [id])).rowCount ?? 0) > 0;
  }

  async setLoginState(userId: string, failedLogins: number, lockedUntil: string | null): Promise<void> {
    await this.q("UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1", [
      userId,
      failedLogins,
      lockedUntil,
    ]);
  }

  async setPassword(userId: string, passwordHash: string): Promise<void> {
    await this.q("UPDATE users SET password_hash = $2 WHERE id = $1", [userId, passwordHash]);
  }

  async setMember(member: MemberRecord): Promise<void> {
    try {
      await this.q(
        "INSERT INTO members (project, user_id, role) VALUES ($1,$2,$3) ON CONFLICT (project, user_id) DO UPDATE SET role = EXCLUDED.role",
        [member.project, member.userId, member.role],
      );
    } catch (error) {
      if (error instanceof CfgError && error.code === "not_found")
        throw new CfgError("not_found", `user ${member.userId} does not exist; see 'cfg user list'`);
      throw error;
    }
  }

  async removeMember(project: string, userId: string): Promise<boolean> {
    const result = await this.q("DELETE FROM members WHERE project = $1 AND user_id = $2", [project, userId]);
    return (result.rowCount ?? 0) > 0;
  }

  async listMembers(project: string): Promise<MemberRecord[]> {
    const { rows } = await this.q("SELECT * FROM members WHERE project = $1 ORDER BY user_id", [project]);
    return rows.map((r) => ({ project: String(r.project), userId: String(r.user_id), role: r.role as Role }));
  }

  async roleOf(project: string, userId: string): Promise<Role | null> {
    const { rows } = await this.q("SELECT role FROM members WHERE project = $1 AND user_id = $2", [
      project,
      userId,
    ]);
    return rows[0] ? (rows[0].role as Role) : null;
  }

  async membershipsOf(userId: string): Promise<MemberRecord[]> {
    const { rows } = await this.q("SELECT * FROM members WHERE user_id = $1 ORDER BY project", [userId]);
    return rows.map((r) => ({ project: String(r.project), userId: String(r.user_id), role: r.role as Role }));
  }

  async removeProject(project: string): Promise<void> {
    await this.q("DELETE FROM members WHERE project = $1", [project]);
    await this.q("DELETE FROM api_keys WHERE project = $1", [project]);
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    await this.q(
      "INSERT INTO api_keys (id, project, name, hash, created_at, created_by, revoked_at, last_used_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
      [key.id, key.project, key.name, key.hash, key.createdAt, key.createdBy, key.revokedAt, key.lastUsedAt],
    );
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const { rows } = await this.q("SELECT * FROM api_keys WHERE hash = $1", [hash]);
    return rows[0] ? toApiKey(rows[0]) : null;
  }

  async listApiKeys(project: string): Promise<ApiKeyRecord[]> {
    const { rows } = await this.q("SELECT * FROM api_keys WHERE project = $1 ORDER BY created_at, id", [
      project,
    ]);
    return rows.map(toApiKey);
  }

  async revokeApiKey(project: string, id: string, at: string): Promise<boolean> {
    const result = await this.q(
      "UPDATE api_keys SET revoked_at = $3 WHERE project = $1 AND id = $2 AND revoked_at IS NULL",
      [project, id, at],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    await this.q("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", [id, at]);
  }

  async createToken(token: TokenRecord): Promise<void> {
    await this.q(
      "INSERT INTO tokens (id, user_id, kind, name, hash, created_at, expires_at, revoked_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
      [
        token.id,
        token.userId,
        token.kind,
        token.name,
        token.hash,
        token.createdAt,
        token.expiresAt,
        token.revokedAt,
      ],
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const { rows } = await this.q("SELECT * FROM tokens WHERE hash = $1", [hash]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.q("SELECT * FROM tokens WHERE id = $1", [id]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    const { rows } = await this.q("SELECT * FROM tokens WHERE user_id = $1 ORDER BY created_at, id", [
      userId,
    ]);
    return rows.map(toToken);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    const result = await this.q("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", [
      id,
      at,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async rotateToken(
    id: string,
    oldHash: string,
    newHash: string,
    expiresAt: string | null,
  ): Promise<boolean> {
    const result = await this.q(
      "UPDATE tokens SET hash = $3, expires_at = $4 WHERE id = $1 AND hash = $2 AND revoked_at IS NULL",
      [id, oldHash, newHash, expiresAt],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async rotateSigningKey(key: SigningKeyRecord): Promise<void> {
    // One statement, so that no reader sees two active keys or none.
    await this.q(
      `WITH retired AS (UPDATE signing_keys SET retired_at = $3 WHERE retired_at IS NULL)
       INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES ($1,$2,$3,NULL)`,
      [key.id, key.secret, key.createdAt],
    );
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const { rows } = await this.q("SELECT * FROM signing_keys ORDER BY created_at DESC, id DESC");
    return rows.map((r) => ({
      id: String(r.id),
      secret: String(r.secret),
      createdAt: String(r.created_at),
      retiredAt: text(r.retired_at),
    }));
  }

  async appendAudit(r: NewAuditRecord): Promise<void> {
    await this.q(
      "INSERT INTO audit_log (id, at, actor, action, project, target, address, result, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
      [r.id, r.at, r.actor, r.action, r.project, r.target, r.address, r.result, r.detail],
    );
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace("?", `$${params.length}`));
    };
    if (query.before !== undefined) add("seq < ?", query.before);
    if (query.project !== undefined) add("project = ?", query.project);
    if (query.actor !== undefined) add("actor = ?", query.actor);
    params.push(clampAuditLimit(query.limit));
    const { rows } = await this.q(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }

  /** Drop the schema this store works in (tests: each run in its own schema). */
  async dropSchema(): Promise<void> {
    if (!this.options.schema) throw new Error("dropSchema needs a schema");
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.options.schema} CASCADE`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
