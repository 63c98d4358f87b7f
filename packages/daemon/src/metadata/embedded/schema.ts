/** Metadata tables of state.db (embedded mode); written only by `applyMetadataOp`. */
export const METADATA_SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  cluster_admin INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
  project TEXT NOT NULL,
  user_id TEXT NOT NULL,
  role TEXT NOT NULL,
  PRIMARY KEY (project, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at TEXT,
  last_used_at TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_keys_by_project ON api_keys (project);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user_id);
CREATE TABLE IF NOT EXISTS signing_keys (
  id TEXT PRIMARY KEY,
  secret TEXT NOT NULL,
  created_at TEXT NOT NULL,
  retired_at TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  project TEXT,
  target TEXT,
  address TEXT,
  result TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_project ON audit_log (project, seq);
CREATE INDEX IF NOT EXISTS audit_by_actor ON audit_log (actor, seq);
`;
