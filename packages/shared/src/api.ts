/**
 * Request and response bodies of the cfgd HTTP API v1 (see DESIGN.md). Both `cfg` and `cfgd`
 * use these types; the daemon's routes produce exactly these shapes.
 */
import type { JsonValue } from "./canonical-json.js";
import type { SchemaBinding } from "./schema-validation.js";

/** Where a change came from in git. Every field is optional: a push may come from outside git. */
export interface GitProvenance {
  commit?: string | null;
  branch?: string | null;
  author?: string | null;
  message?: string | null;
  /** True when the working tree had uncommitted changes (`cfg push --allow-dirty`). */
  dirty?: boolean;
}

export type ChangeOp = { op: "put"; key: string; value: JsonValue } | { op: "delete"; key: string };

/** POST /v1/projects/{p}/pushes */
export interface PushRequest {
  /** The project revision the plan was made against; keys changed after it make a 409. */
  baseRevision: number;
  changes: ChangeOp[];
  /**
   * The project's whole schema set after this push. Absent: schemas are left as they are.
   * Present (even empty): it replaces the set, atomically with the changes.
   */
  schemas?: SchemaBinding[];
  git?: GitProvenance;
  /** Free text; defaults to the git commit message. */
  message?: string;
  /** Validate and plan only; nothing is applied. */
  dryRun?: boolean;
}

/** One key-level change as planned or applied. */
export interface PlannedChange {
  op: "put" | "delete";
  key: string;
  /** Version before the change (0: the key did not exist). */
  fromVersion: number;
  /** Version after the change (0: the key no longer exists). */
  toVersion: number;
  before?: JsonValue;
  after?: JsonValue;
}

/** Answer to a push, a rollback or a single-key write. */
export interface PushResult {
  project: string;
  /** The revision this created, or the current revision when nothing changed or with dryRun. */
  revision: number;
  previousRevision: number;
  /** False when the push changed nothing (no revision was created) or was a dry run. */
  applied: boolean;
  dryRun: boolean;
  changes: PlannedChange[];
  /** True when the schema set changed. */
  schemasChanged: boolean;
}

/** POST /v1/projects/{p}/rollback */
export interface RollbackRequest {
  toRevision: number;
  /** Only these keys; absent means the whole project (configs and schemas). */
  keys?: string[];
  message?: string;
  /** When given, refuse with 409 if the project moved past it (what `cfg rollback` previewed). */
  baseRevision?: number;
  dryRun?: boolean;
}

export interface ManifestEntry {
  version: number;
  /** Hex SHA-256 of the value's canonical JSON. */
  sha256: string;
}

/** GET /v1/projects/{p}/manifest */
export interface Manifest {
  project: string;
  revision: number;
  entries: Record<string, ManifestEntry>;
  /** Hash of each schema binding's canonical `{name, match, schema}`, by name. */
  schemas: Record<string, { match: string; sha256: string }>;
}

/** GET /v1/projects/{p}/configs/{key} */
export interface ConfigEntry {
  key: string;
  value: JsonValue;
  version: number;
  /** Revision of the project that this answer was read at. */
  revision: number;
  /** Revision at which this key last changed. */
  modRevision: number;
  sha256: string;
  updatedAt: string;
}

/** GET /v1/projects/{p}/configs?prefix= */
export interface ConfigList {
  project: string;
  revision: number;
  items: ConfigEntry[];
}

/** push and rollback from `cfg`; put/delete of one key; schema for a single schema change. */
export type RevisionKind = "push" | "rollback" | "put" | "delete" | "schema";

/** One revision of a project: GET /v1/projects/{p}/pushes[/{revision}] */
export interface RevisionRecord {
  project: string;
  revision: number;
  kind: RevisionKind;
  createdAt: string;
  /** Who made it (the token's subject). */
  actor: string;
  message: string | null;
  git: GitProvenance | null;
  /** For rollbacks: the revision whose content was restored. */
  rollbackTo: number | null;
  schemasChanged: boolean;
  changes: { op: "put" | "delete"; key: string; version: number }[];
}

export interface RevisionList {
  project: string;
  revision: number;
  items: RevisionRecord[];
  /** Pass as `?before=` to get older revisions; null at the first revision. */
  nextBefore: number | null;
}

/** GET /v1/projects, GET /v1/projects/{p} */
export interface ProjectInfo {
  name: string;
  revision: number;
  keyCount: number;
  createdAt: string;
}

export interface ProjectList {
  items: ProjectInfo[];
}

/** POST /v1/projects */
export interface CreateProjectRequest {
  name: string;
}

/** GET /v1/projects/{p}/schemas */
export interface SchemaList {
  project: string;
  revision: number;
  items: (SchemaBinding & { sha256: string })[];
}

/** GET /v1/cluster: what the answering node knows of the cluster. */
export interface ClusterView {
  nodeId: string;
  leader: string | null;
  term: number;
  role: string;
  commitIndex: number;
  appliedIndex: number;
  /** The last snapshot of state.db this node holds, and the first index still in its log. */
  snapshotIndex: number;
  firstLogIndex: number;
  members: ClusterMember[];
}

export interface ClusterMember {
  id: string;
  url: string;
  voter: boolean;
  /** A learner waiting to be promoted once it has caught up. */
  promote?: boolean;
  /** As seen by the leader (only on the leader's view): the last index known to be on the member. */
  match?: number;
  /** Milliseconds since the answering node last heard from this member (absent: never, or itself). */
  lastContactMs?: number;
}

/** One applied revision as a watcher sees it (GET /v1/watch/{p}, event `revision`, id = revision). */
export interface WatchEvent {
  project: string;
  revision: number;
  kind: RevisionKind;
  createdAt: string;
  actor: string;
  message: string | null;
  /** The changes of this revision (only those under the watch's prefix); values with ?values=true. */
  changes: { op: "put" | "delete"; key: string; version: number; value?: JsonValue | null }[];
}

/**
 * Event `reset`: the stream cannot go on from where the watcher is (the project was deleted, or
 * the history to resume from is gone); re-read the project in full, then watch from `revision`.
 */
export interface WatchReset {
  project: string;
  reason: "deleted" | "compacted";
  /** The project's current revision (0 when deleted). */
  revision: number;
  message: string;
}
