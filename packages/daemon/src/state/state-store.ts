import type {
  GitProvenance,
  JsonValue,
  RevisionKind,
  RevisionRecord,
  SchemaBinding,
} from "@cfguardian/shared";
import type { Db } from "../storage/sqlite.js";
import { STATE_SCHEMA } from "./schema.js";

export interface ProjectRow {
  name: string;
  revision: number;
  created_at: string;
}

export interface ConfigRow {
  key: string;
  value: string;
  sha256: string;
  version: number;
  mod_revision: number;
  updated_at: string;
}

export interface VersionRow {
  key: string;
  version: number;
  revision: number;
  value: string | null;
  sha256: string | null;
}

interface RevisionRow {
  project: string;
  revision: number;
  kind: RevisionKind;
  created_at: string;
  actor: string;
  message: string | null;
  git: string | null;
  rollback_to: number | null;
  schemas_changed: number;
  changes: string;
}

function toRecord(row: RevisionRow): RevisionRecord {
  return {
    project: row.project,
    revision: row.revision,
    kind: row.kind,
    createdAt: row.created_at,
    actor: row.actor,
    message: row.message,
    git: row.git ? (JSON.parse(row.git) as GitProvenance) : null,
    rollbackTo: row.rollback_to,
    schemasChanged: row.schemas_changed === 1,
    changes: JSON.parse(row.changes) as RevisionRecord["changes"],
  };
}

/** Schema sets up to this many characters of JSON are kept parsed (schemaSetAt). */
const MAX_CACHED_SCHEMA_SET = 1024 * 1024;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * state.db access with prepared statements: the only module that speaks SQL to it. The state
 * machine writes through it inside its transactions; the read side queries it directly.
 */
export class StateStore {
  private readonly s;
  /** Schema sets as parsed, by their JSON text (as stored: equal sets, equal texts). */
  private readonly parsedSchemaSets = new Map<string, readonly SchemaBinding[]>();

  constructor(readonly db: Db) {
    db.exec(STATE_SCHEMA);
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      getMeta: p("SELECT v FROM meta WHERE k = ?").pluck(),
      setMeta: p("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v"),
      project: p("SELECT name, revision, created_at FROM projects WHERE name = ?"),
      projects: p("SELECT name, revision, created_at FROM projects ORDER BY name"),
      keyCount: p("SELECT COUNT(*) FROM configs WHERE project = ?").pluck(),
      insertProject: p("INSERT INTO projects (name, revision, created_at) VALUES (?, 0, ?)"),
      setRevision: p("UPDATE projects SET revision = ? WHERE name = ?"),
      config: p(
        "SELECT key, value, sha256, version, mod_revision, updated_at FROM configs WHERE project = ? AND key = ?",
      ),
      configs: p(
        "SELECT key, value, sha256, version, mod_revision, updated_at FROM configs WHERE project = ? AND key >= ? AND key < ? ORDER BY key",
      ),
      manifest: p("SELECT key, sha256, version FROM configs WHERE project = ? ORDER BY key"),
      upsertConfig: p(
        "INSERT INTO configs (project, key, value, sha256, version, mod_revision, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project, key) DO UPDATE SET value = excluded.value, sha256 = excluded.sha256, version = excluded.version, mod_revision = excluded.mod_revision, updated_at = excluded.updated_at",
      ),
      deleteConfig: p("DELETE FROM configs WHERE project = ? AND key = ?"),
      lastVersion: p("SELECT MAX(version) FROM key_versions WHERE project = ? AND key = ?").pluck(),
      insertVersion: p(
        "INSERT INTO key_versions (project, key, version, revision, value, sha256) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      versionAt: p(
        "SELECT key, version, revision, value, sha256 FROM key_versions WHERE project = ? AND key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1",
      ),
      stateAt: p(
        `SELECT kv.key, kv.version, kv.revision, kv.value, kv.sha256 FROM key_versions kv
         WHERE kv.project = ? AND kv.revision = (
           SELECT MAX(k2.revision) FROM key_versions k2 WHERE k2.project = kv.project AND k2.key = kv.key AND k2.revision <= ?)`,
      ),
      insertRevision: p(
        "INSERT INTO revisions (project, revision, kind, created_at, actor, message, git, rollback_to, schemas_changed, changes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      revision: p("SELECT * FROM revisions WHERE project = ? AND revision = ?"),
      revisionsAfter: p(
        "SELECT * FROM revisions WHERE project = ? AND revision > ? ORDER BY revision LIMIT ?",
      ),
      firstRevision: p("SELECT MIN(revision) FROM revisions WHERE project = ?").pluck(),
      versionValue: p("SELECT value FROM key_versions WHERE project = ? AND key = ? AND version = ?").pluck(),
      revisions: p(
        "SELECT * FROM revisions WHERE project = ? AND revision < ? ORDER BY revision DESC LIMIT ?",
      ),
      schemaSetAt: p(
        "SELECT revision, schemas FROM schema_sets WHERE project = ? AND revision <= ? ORDER BY revision DESC LIMIT 1",
      ),
      insertSchemaSet: p(
        "INSERT INTO schema_sets (project, revision, schemas) VALUES (?, ?, ?) ON CONFLICT (project, revision) DO UPDATE SET schemas = excluded.schemas",
      ),
      members: p("SELECT id, url, promote FROM cluster_members ORDER BY id"),
      setMember: p(
        "INSERT INTO cluster_members (id, url, promote) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url, promote = excluded.promote",
      ),
      removeMember: p("DELETE FROM cluster_members WHERE id = ?"),
      deleteProjectRows: ["projects", "configs", "key_versions", "revisions", "schema_sets"].map((table) =>
        p(`DELETE FROM ${table} WHERE ${table === "projects" ? "name" : "project"} = ?`),
      ),
    };
  }

  appliedIndex(): number {
    return Number(this.s.getMeta.get("applied_index") ?? 0);
  }
  setAppliedIndex(index: number): void {
    this.s.setMeta.run("applied_index", String(index));
  }

  /** Cluster members' URLs, replicated with the conf changes that add and remove them. */
  members(): { id: string; url: string; promote: boolean }[] {
    return (this.s.members.all() as { id: string; url: string; promote: number }[]).map((row) => ({
      ...row,
      promote: row.promote === 1,
    }));
  }
  setMember(id: string, url: string, promote: boolean): void {
    this.s.setMember.run(id, url, promote ? 1 : 0);
  }
  removeMember(id: string): void {
    this.s.removeMember.run(id);
  }

  project(name: string): ProjectRow | undefined {
    return this.s.project.get(name) as ProjectRow | undefined;
  }
  projects(): ProjectRow[] {
    return this.s.projects.all() as ProjectRow[];
  }
  keyCount(project: string): number {
    return this.s.keyCount.get(project) as number;
  }
  insertProject(name: string, at: string): void {
    this.s.insertProject.run(name, at);
  }
  setRevision(project: string, revision: number): void {
    this.s.setRevision.run(revision, project);
  }
  deleteProject(name: string): void {
    for (const statement of this.s.deleteProjectRows) statement.run(name);
  }

  config(project: string, key: string): ConfigRow | undefined {
    return this.s.config.get(project, key) as ConfigRow | undefined;
  }
  /** Current configs whose key starts with `prefix`, in key order. */
  configs(project: string, prefix = ""): ConfigRow[] {
    return this.s.configs.all(project, prefix, `${prefix}\uffff`) as ConfigRow[];
  }
  manifest(project: string): { key: string; sha256: string; version: number }[] {
    return this.s.manifest.all(project) as { key: string; sha256: string; version: number }[];
  }

  /** The last version of a key at or before `revision` (a deletion has value null). */
  versionAt(project: string, key: string, revision: number): VersionRow | undefined {
    return this.s.versionAt.get(project, key, revision) as VersionRow | undefined;
  }
  /** Every key that exists at `revision`, with its value then. */
  stateAt(project: string, revision: number): Map<string, VersionRow> {
    const rows = this.s.stateAt.all(project, revision) as VersionRow[];
    return new Map(rows.filter((row) => row.value !== null).map((row) => [row.key, row]));
  }

  /** The version a key's next change gets (versions keep counting across deletes). */
  nextVersion(project: string, key: string): number {
    return ((this.s.lastVersion.get(project, key) as number | null) ?? 0) + 1;
  }

  /** Write a key's new value (null: delete) as `version` at `revision`. Returns the version. */
  writeKey(
    project: string,
    key: string,
    text: string | null,
    sha256: string | null,
    version: number,
    revision: number,
    at: string,
  ): number {
    this.s.insertVersion.run(project, key, version, revision, text, sha256);
    if (text === null) this.s.deleteConfig.run(project, key);
    else this.s.upsertConfig.run(project, key, text, sha256, version, revision, at);
    return version;
  }

  insertRevision(record: RevisionRecord): void {
    this.s.insertRevision.run(
      record.project,
      record.revision,
      record.kind,
      record.createdAt,
      record.actor,
      record.message,
      record.git ? JSON.stringify(record.git) : null,
      record.rollbackTo,
      record.schemasChanged ? 1 : 0,
      JSON.stringify(record.changes),
    );
  }
  revision(project: string, revision: number): RevisionRecord | undefined {
    const row = this.s.revision.get(project, revision) as RevisionRow | undefined;
    return row ? toRecord(row) : undefined;
  }
  /** Revisions after `after`, oldest first (what a watcher has not seen yet). */
  revisionsAfter(project: string, after: number, limit: number): RevisionRecord[] {
    return (this.s.revisionsAfter.all(project, after, limit) as RevisionRow[]).map(toRecord);
  }
  /** The oldest revision still recorded (history before it is gone), or null when there is none. */
  firstRevision(project: string): number | null {
    return (this.s.firstRevision.get(project) as number | null) ?? null;
  }
  /** A key's value at one of its versions (null: deleted at that version). */
  versionValue(project: string, key: string, version: number): JsonValue | null {
    const text = this.s.versionValue.get(project, key, version) as string | null | undefined;
    return text === null || text === undefined ? null : StateStore.parseValue(text);
  }
  revisions(project: string, before: number, limit: number): RevisionRecord[] {
    return (this.s.revisions.all(project, before, limit) as RevisionRow[]).map(toRecord);
  }

  /**
   * The schema set in force at `revision`, and the revision it was set at (0: never). Its bindings
   * are shared and frozen: parsed once per distinct set (a project's is read for every write to
   * it, and compileSchemaSet finds a frozen set's validators by the set itself).
   */
  schemaSetAt(project: string, revision: number): { revision: number; schemas: readonly SchemaBinding[] } {
    const row = this.s.schemaSetAt.get(project, revision) as
      | { revision: number; schemas: string }
      | undefined;
    if (!row) return { revision: 0, schemas: [] };
    let schemas = this.parsedSchemaSets.get(row.schemas);
    if (!schemas) {
      schemas = deepFreeze(JSON.parse(row.schemas) as SchemaBinding[]);
      if (row.schemas.length <= MAX_CACHED_SCHEMA_SET) {
        if (this.parsedSchemaSets.size >= 16) this.parsedSchemaSets.clear();
        this.parsedSchemaSets.set(row.schemas, schemas);
      }
    }
    return { revision: row.revision, schemas };
  }

  setSchemaSet(project: string, revision: number, schemas: readonly SchemaBinding[]): void {
    this.s.insertSchemaSet.run(project, revision, JSON.stringify(schemas));
  }

  static parseValue(text: string): JsonValue {
    return JSON.parse(text) as JsonValue;
  }
}
