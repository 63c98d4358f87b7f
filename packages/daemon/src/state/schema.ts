import { METADATA_SCHEMA } from "../metadata/embedded/schema.js";

/** DDL of state.db. Every table is written only by the state machine's apply. */
export const STATE_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  k TEXT PRIMARY KEY,
  v TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projects (
  name TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS configs (
  project TEXT NOT NULL,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  version INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (project, key)
) WITHOUT ROWID;
-- Every version of every key, values included: one row per change, and a rowid table. As WITHOUT
-- ROWID it kept each ~300-byte row in the B-tree ordered by (project, key, version), so every write
-- inserted into a random leaf and split it often; as a rowid table rows go to its end and only
-- small cells go into the two indexes (apply of one put: about a fifth less time). A file made
-- before that keeps its layout: the statements are the same for both.
CREATE TABLE IF NOT EXISTS key_versions (
  project TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL,
  revision INTEGER NOT NULL,
  value TEXT,
  sha256 TEXT,
  PRIMARY KEY (project, key, version)
);
CREATE INDEX IF NOT EXISTS key_versions_by_revision ON key_versions (project, key, revision);
CREATE TABLE IF NOT EXISTS revisions (
  project TEXT NOT NULL,
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  actor TEXT NOT NULL,
  message TEXT,
  git TEXT,
  rollback_to INTEGER,
  schemas_changed INTEGER NOT NULL,
  changes TEXT NOT NULL,
  PRIMARY KEY (project, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schema_sets (
  project TEXT NOT NULL,
  revision INTEGER NOT NULL,
  schemas TEXT NOT NULL,
  PRIMARY KEY (project, revision)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cluster_members (
  id      TEXT PRIMARY KEY,
  url     TEXT NOT NULL,
  promote INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
${METADATA_SCHEMA}`;
