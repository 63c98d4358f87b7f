import {
  type ChangeOp,
  type ConfigEntry,
  type ConfigList,
  type JsonChange,
  type JsonValue,
  jsonDiff,
  type Manifest,
} from "@cfguardian/shared";
import { type ApiClient, projectPath } from "../http/client.js";
import type { LocalState } from "../repo/local-state.js";

export interface KeyChange {
  op: "add" | "change" | "delete";
  key: string;
  /** Live version (0 when the key is new). */
  fromVersion: number;
  before?: JsonValue;
  after?: JsonValue;
  diff: JsonChange[];
}

export interface SchemaChange {
  op: "add" | "change" | "delete";
  name: string;
  match: string;
}

/** The difference between a target's directory and the live project, ready to show or push. */
export interface Plan {
  project: string;
  server: string;
  baseRevision: number;
  changes: KeyChange[];
  schemaChanges: SchemaChange[];
  /** Live keys missing from the repository and kept because --prune was not given. */
  kept: string[];
  summary: { add: number; change: number; delete: number };
}

export function planIsEmpty(plan: Plan): boolean {
  return plan.changes.length === 0 && plan.schemaChanges.length === 0;
}

/** The changes of a push that carries out a plan. */
export function planToChanges(plan: Plan, local: LocalState): ChangeOp[] {
  return plan.changes.map((change) =>
    change.op === "delete"
      ? { op: "delete", key: change.key }
      : { op: "put", key: change.key, value: local.configs.get(change.key)!.value },
  );
}

/** Many keys: one listing is cheaper than a request per key. */
const LIST_THRESHOLD = 64;
const FETCH_CONCURRENCY = 8;

async function fetchLiveValues(
  client: ApiClient,
  project: string,
  keys: string[],
  revision: number,
): Promise<Map<string, JsonValue>> {
  const values = new Map<string, JsonValue>();
  if (keys.length === 0) return values;
  if (keys.length > LIST_THRESHOLD) {
    const list = await client.get<ConfigList>(projectPath(project, "configs"), { query: { values: true } });
    const wanted = new Set(keys);
    for (const item of list.items) if (wanted.has(item.key)) values.set(item.key, item.value);
    return values;
  }
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const entry = await client.get<ConfigEntry>(projectPath(project, "configs", key), {
        query: { revision },
      });
      values.set(key, entry.value);
    }
  };
  await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, keys.length) }, worker));
  return values;
}

/**
 * The live project's manifest (key, version and content hash of every config). Asked for before
 * the files are read, the server builds it while they are; the promise is marked handled, so a
 * failure comes out where it is awaited (or not at all, when the files had problems).
 */
export function fetchManifest(client: ApiClient, project: string): Promise<Manifest> {
  const asked = client.get<Manifest>(projectPath(project, "manifest"));
  asked.catch(() => {});
  return asked;
}

/**
 * Compare local files with the live manifest by content hash, then fetch only the values that
 * differ to show a structural diff of each.
 */
export async function makePlan(
  client: ApiClient,
  local: LocalState,
  prune: boolean,
  manifestAsked?: Promise<Manifest>,
): Promise<Plan> {
  const { project } = local.target;
  const manifest = await (manifestAsked ?? fetchManifest(client, project));
  const changes: KeyChange[] = [];
  const kept: string[] = [];
  const toFetch: string[] = [];
  for (const [key, config] of local.configs) {
    const live = manifest.entries[key];
    if (!live) changes.push({ op: "add", key, fromVersion: 0, after: config.value, diff: [] });
    else if (live.sha256 !== config.sha256) {
      changes.push({ op: "change", key, fromVersion: live.version, after: config.value, diff: [] });
      toFetch.push(key);
    }
  }
  for (const [key, live] of Object.entries(manifest.entries)) {
    if (local.configs.has(key)) continue;
    if (prune) {
      changes.push({ op: "delete", key, fromVersion: live.version, diff: [] });
      toFetch.push(key);
    } else kept.push(key);
  }
  const liveValues = await fetchLiveValues(client, project, toFetch, manifest.revision);
  for (const change of changes) {
    if (change.op === "add") continue;
    change.before = liveValues.get(change.key) ?? null;
    if (change.op === "change") change.diff = jsonDiff(change.before, change.after!);
  }
  changes.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const schemaChanges: SchemaChange[] = [];
  for (const schema of local.schemas) {
    const live = manifest.schemas?.[schema.name];
    if (!live) schemaChanges.push({ op: "add", name: schema.name, match: schema.match });
    else if (live.sha256 !== schema.sha256)
      schemaChanges.push({ op: "change", name: schema.name, match: schema.match });
  }
  for (const [name, live] of Object.entries(manifest.schemas ?? {})) {
    if (!local.schemas.some((s) => s.name === name))
      schemaChanges.push({ op: "delete", name, match: live.match });
  }
  return {
    project,
    server: client.server,
    baseRevision: manifest.revision,
    changes,
    schemaChanges,
    kept: kept.sort(),
    summary: {
      add: changes.filter((c) => c.op === "add").length,
      change: changes.filter((c) => c.op === "change").length,
      delete: changes.filter((c) => c.op === "delete").length,
    },
  };
}
