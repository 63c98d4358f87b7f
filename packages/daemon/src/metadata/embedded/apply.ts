/**
 * Applies one replicated metadata command to state.db. Deterministic (every value comes in the
 * command) and called inside the state machine's savepoint: a thrown CfgError rolls it back.
 */
import { CfgError } from "@cfguardian/shared";
import type { Statement } from "better-sqlite3";
import type { Db } from "../../storage/sqlite.js";
import type { AuditResult, NewAuditRecord } from "../port.js";
import type { MetadataOp } from "./ops.js";

const changed = (info: { changes: number }) => info.changes > 0;

/** Prepared statements by database and SQL: preparing one costs more than running it. */
const statements = new WeakMap<Db, Map<string, Statement>>();
function prepared(db: Db, sql: string): Statement {
  let byDb = statements.get(db);
  if (!byDb) {
    byDb = new Map();
    statements.set(db, byDb);
  }
  let statement = byDb.get(sql);
  if (!statement) {
    statement = db.prepare<unknown[]>(sql);
    byDb.set(sql, statement);
  }
  return statement;
}

/** A row refused by a UNIQUE or PRIMARY KEY constraint (one already there). */
const isConstraint = (error: unknown) => (error as { code?: string }).code?.startsWith("SQLITE_CONSTRAINT");

function insert(db: Db, sql: string, params: unknown[], conflict: string): void {
  try {
    prepared(db, sql).run(...params);
  } catch (error) {
    if (isConstraint(error)) throw new CfgError("conflict", conflict);
    throw error;
  }
}

const APPEND_AUDIT =
  "INSERT INTO audit_log (id, at, actor, action, project, target, address, result, detail) VALUES (?,?,?,?,?,?,?,?,?)";

/**
 * Append one audit record, its result given apart (the state machine adds it to the draft a
 * command carries, on every node for every write). False when a record with its id is already
 * there (the same entry applied again). Its columns are bound one by one: through the generic
 * path (an op object, the record spread into a new one, an array of parameters spread into run),
 * a single-key write on one node took 442,000-447,000 instructions of the main thread against
 * 411,000 this way (callgrind).
 */
export function appendAuditRecord(
  db: Db,
  r: Omit<NewAuditRecord, "result" | "detail">,
  result: AuditResult,
  detail: string | null,
): boolean {
  try {
    prepared(db, APPEND_AUDIT).run(
      r.id,
      r.at,
      r.actor,
      r.action,
      r.project,
      r.target,
      r.address,
      result,
      detail,
    );
    return true;
  } catch (error) {
    if (isConstraint(error)) return false;
    throw error;
  }
}

/** Returns the value the proposer gets back: whether something changed, for the boolean calls. */
export function applyMetadataOp(db: Db, op: MetadataOp): boolean {
  switch (op.op) {
    case "create-user": {
      const u = op.user;
      insert(
        db,
        "INSERT INTO users (id, email, password_hash, cluster_admin, created_at, failed_logins, locked_until) VALUES (?,?,?,?,?,?,?)",
        [u.id, u.email, u.passwordHash, u.clusterAdmin ? 1 : 0, u.createdAt, u.failedLogins, u.lockedUntil],
        `a user with email ${u.email} already exists`,
      );
      return true;
    }
    case "delete-user": {
      const gone = changed(prepared(db, "DELETE FROM users WHERE id = ?").run(op.id));
      prepared(db, "DELETE FROM members WHERE user_id = ?").run(op.id);
      prepared(db, "DELETE FROM tokens WHERE user_id = ?").run(op.id);
      return gone;
    }
    case "set-login-state":
      return changed(
        prepared(db, "UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?").run(
          op.failedLogins,
          op.lockedUntil,
          op.userId,
        ),
      );
    case "set-password":
      return changed(
        prepared(db, "UPDATE users SET password_hash = ? WHERE id = ?").run(op.passwordHash, op.userId),
      );
    case "set-member": {
      const m = op.member;
      if (!prepared(db, "SELECT 1 FROM users WHERE id = ?").get(m.userId)) {
        throw new CfgError("not_found", `user ${m.userId} does not exist; see 'cfg user list'`);
      }
      prepared(
        db,
        "INSERT INTO members (project, user_id, role) VALUES (?,?,?) ON CONFLICT (project, user_id) DO UPDATE SET role = excluded.role",
      ).run(m.project, m.userId, m.role);
      return true;
    }
    case "remove-member":
      return changed(
        prepared(db, "DELETE FROM members WHERE project = ? AND user_id = ?").run(op.project, op.userId),
      );
    case "remove-project":
      prepared(db, "DELETE FROM members WHERE project = ?").run(op.project);
      prepared(db, "DELETE FROM api_keys WHERE project = ?").run(op.project);
      return true;
    case "create-api-key": {
      const k = op.key;
      insert(
        db,
        "INSERT INTO api_keys (id, project, name, hash, created_at, created_by, revoked_at, last_used_at) VALUES (?,?,?,?,?,?,?,?)",
        [k.id, k.project, k.name, k.hash, k.createdAt, k.createdBy, k.revokedAt, k.lastUsedAt],
        "an API key with this id or hash already exists",
      );
      return true;
    }
    case "revoke-api-key":
      return changed(
        prepared(
          db,
          "UPDATE api_keys SET revoked_at = ? WHERE project = ? AND id = ? AND revoked_at IS NULL",
        ).run(op.at, op.project, op.id),
      );
    case "touch-api-key":
      return changed(prepared(db, "UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(op.at, op.id));
    case "create-token": {
      const t = op.token;
      if (!prepared(db, "SELECT 1 FROM users WHERE id = ?").get(t.userId)) {
        throw new CfgError("not_found", `user ${t.userId} does not exist`);
      }
      insert(
        db,
        "INSERT INTO tokens (id, user_id, kind, name, hash, created_at, expires_at, revoked_at) VALUES (?,?,?,?,?,?,?,?)",
        [t.id, t.userId, t.kind, t.name, t.hash, t.createdAt, t.expiresAt, t.revokedAt],
        "a token with this id or hash already exists",
      );
      return true;
    }
    case "revoke-token":
      return changed(
        prepared(db, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(
          op.at,
          op.id,
        ),
      );
    case "rotate-token":
      return changed(
        prepared(
          db,
          "UPDATE tokens SET hash = ?, expires_at = ? WHERE id = ? AND hash = ? AND revoked_at IS NULL",
        ).run(op.newHash, op.expiresAt, op.id, op.oldHash),
      );
    case "rotate-signing-key":
      prepared(db, "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL").run(op.key.createdAt);
      insert(
        db,
        "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?,?,?,NULL)",
        [op.key.id, op.key.secret, op.key.createdAt],
        `signing key ${op.key.id} already exists`,
      );
      return true;
    case "append-audit": {
      const r = op.record;
      if (!appendAuditRecord(db, r, r.result, r.detail))
        throw new CfgError("conflict", `audit record ${r.id} already exists`);
      return true;
    }
  }
}
