/**
 * Rows of the metadata tables (the same columns in state.db and PostgreSQL) as records. SQLite
 * gives booleans as 0/1 and PostgreSQL as true/false; everything else reads the same.
 */
import type { ApiKeyRecord, AuditRecord, TokenRecord, UserRecord } from "./port.js";

export type Row = Record<string, unknown>;

export const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export const toUser = (r: Row): UserRecord => ({
  id: String(r.id),
  email: String(r.email),
  passwordHash: String(r.password_hash),
  clusterAdmin: r.cluster_admin === 1 || r.cluster_admin === true,
  createdAt: String(r.created_at),
  failedLogins: Number(r.failed_logins),
  lockedUntil: text(r.locked_until),
});

export const toApiKey = (r: Row): ApiKeyRecord => ({
  id: String(r.id),
  project: String(r.project),
  name: String(r.name),
  hash: String(r.hash),
  createdAt: String(r.created_at),
  createdBy: String(r.created_by),
  revokedAt: text(r.revoked_at),
  lastUsedAt: text(r.last_used_at),
});

export const toToken = (r: Row): TokenRecord => ({
  id: String(r.id),
  userId: String(r.user_id),
  kind: r.kind as TokenRecord["kind"],
  name: String(r.name),
  hash: String(r.hash),
  createdAt: String(r.created_at),
  expiresAt: text(r.expires_at),
  revokedAt: text(r.revoked_at),
});

export const toAudit = (r: Row): AuditRecord => ({
  seq: Number(r.seq),
  id: String(r.id),
  at: String(r.at),
  actor: String(r.actor),
  action: String(r.action),
  project: text(r.project),
  target: text(r.target),
  address: text(r.address),
  result: r.result as AuditRecord["result"],
  detail: text(r.detail),
});
