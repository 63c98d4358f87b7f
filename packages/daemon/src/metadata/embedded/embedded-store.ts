/**
 * The embedded MetadataStore (the default): every write is a `metadata` command proposed through
 * the same Proposer as config writes (the single-node log, or Raft in a cluster), applied by the
 * state machine into state.db on every node; reads come from this node's state.db. A write
 * returns once this node has applied it.
 */
import { randomUUID } from "node:crypto";
import { CfgError } from "@cfguardian/shared";
import type { Proposer } from "../../log/proposer.js";
import type { Db } from "../../storage/sqlite.js";
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
import type { MetadataOp } from "./ops.js";

export class EmbeddedMetadataStore implements MetadataStore {
  readonly kind = "embedded" as const;

  constructor(
    private readonly proposer: Proposer,
    /** This node's state.db (the state machine's; read only here). */
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async run(op: MetadataOp): Promise<boolean> {
    const outcome = await this.proposer.propose({
      type: "metadata",
      op,
      meta: { id: randomUUID(), actor: "metadata", at: this.now().toISOString() },
    });
    if (!outcome.ok) throw new CfgError(outcome.code, outcome.message, outcome.extensions ?? {});
    return outcome.value === true;
  }

  private one(sql: string, ...params: unknown[]): Row | undefined {
    return this.db.prepare(sql).get(...params) as Row | undefined;
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return this.db.prepare(sql).all(...params) as Row[];
  }

  async createUser(user: UserRecord): Promise<UserRecord> {
    await this.run({ op: "create-user", user });
    return user;
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = this.one("SELECT * FROM users WHERE id = ?", id);
    return row ? toUser(row) : null;
  }

  async findUserByEmail(email: string): Promise<UserRecord | null> {
    const row = this.one("SELECT * FROM users WHERE email = ?", email);
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<UserRecord[]> {
    return this.all("SELECT * FROM users ORDER BY id").map(toUser);
  }

  deleteUser(id: string): Promise<boolean> {
    return this.run({ op: "delete-user", id });
  }

  async setLoginState(userId: string, failedLogins: number, lockedUntil: string | null): Promise<void> {
    await this.run({ op: "set-login-state", userId, failedLogins, lockedUntil });
  }

  async setPassword(userId: string, passwordHash: string): Promise<void> {
    await this.run({ op: "set-password", userId, passwordHash });
  }

  async setMember(member: MemberRecord): Promise<void> {
    await this.run({ op: "set-member", member });
  }

  removeMember(project: string, userId: string): Promise<boolean> {
    return this.run({ op: "remove-member", project, userId });
  }

  async listMembers(project: string): Promise<MemberRecord[]> {
    return this.all("SELECT * FROM members WHERE project = ? ORDER BY user_id", project).map((r) => ({
      project: String(r.project),
      userId: String(r.user_id),
      role: r.role as Role,
    }));
  }

  async roleOf(project: string, userId: string): Promise<Role | null> {
    const row = this.one("SELECT role FROM members WHERE project = ? AND user_id = ?", project, userId);
    return row ? (row.role as Role) : null;
  }

  async membershipsOf(userId: string): Promise<MemberRecord[]> {
    return this.all("SELECT * FROM members WHERE user_id = ? ORDER BY project", userId).map((r) => ({
      project: String(r.project),
      userId: String(r.user_id),
      role: r.role as Role,
    }));
  }

  async removeProject(project: string): Promise<void> {
    await this.run({ op: "remove-project", project });
  }

  async createApiKey(key: ApiKeyRecord): Promise<void> {
    await this.run({ op: "create-api-key", key });
  }

  async findApiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const row = this.one("SELECT * FROM api_keys WHERE hash = ?", hash);
    return row ? toApiKey(row) : null;
  }

  async listApiKeys(project: string): Promise<ApiKeyRecord[]> {
    return this.all("SELECT * FROM api_keys WHERE project = ? ORDER BY created_at, id", project).map(
      toApiKey,
    );
  }

  revokeApiKey(project: string, id: string, at: string): Promise<boolean> {
    return this.run({ op: "revoke-api-key", project, id, at });
  }

  async touchApiKey(id: string, at: string): Promise<void> {
    await this.run({ op: "touch-api-key", id, at });
  }

  async createToken(token: TokenRecord): Promise<void> {
    await this.run({ op: "create-token", token });
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = this.one("SELECT * FROM tokens WHERE hash = ?", hash);
    return row ? toToken(row) : null;
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const row = this.one("SELECT * FROM tokens WHERE id = ?", id);
    return row ? toToken(row) : null;
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    return this.all("SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id", userId).map(toToken);
  }

  revokeToken(id: string, at: string): Promise<boolean> {
    return this.run({ op: "revoke-token", id, at });
  }

  rotateToken(id: string, oldHash: string, newHash: string, expiresAt: string | null): Promise<boolean> {
    return this.run({ op: "rotate-token", id, oldHash, newHash, expiresAt });
  }

  async rotateSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.run({ op: "rotate-signing-key", key });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.all("SELECT * FROM signing_keys ORDER BY created_at DESC, id DESC").map((r) => ({
      id: String(r.id),
      secret: String(r.secret),
      createdAt: String(r.created_at),
      retiredAt: text(r.retired_at),
    }));
  }

  async appendAudit(record: NewAuditRecord): Promise<void> {
    await this.run({ op: "append-audit", record });
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.before !== undefined) {
      where.push("seq < ?");
      params.push(query.before);
    }
    if (query.project !== undefined) {
      where.push("project = ?");
      params.push(query.project);
    }
    if (query.actor !== undefined) {
      where.push("actor = ?");
      params.push(query.actor);
    }
    params.push(clampAuditLimit(query.limit));
    return this.all(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`,
      ...params,
    ).map(toAudit);
  }

  /** The node owns the proposer and state.db; nothing to close here. */
  async close(): Promise<void> {}
}
