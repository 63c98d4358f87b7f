/**
 * The state machine: applies committed commands to state.db. Applying is deterministic (no
 * clock, no randomness: time and actor come in the command), and a command either applies whole
 * or changes nothing: each runs in its own savepoint, and a rejected one (conflict, validation
 * failure, missing project) is rolled back while its log index still counts as applied. A
 * single-key write needs none: it refuses only before it writes (see applyOne).
 *
 * Group commit (`commitEveryMs` > 0), as etcd batches its backend's commits: applied batches go
 * into one open state.db transaction that is committed every `commitEveryMs`, each batch with its
 * applied index, and no savepoint of its own (see applyBatch). Reads on this connection (the only
 * one) see what is applied at once; the COMMIT only records progress. Durability is raft.db's:
 * every entry applied here is already fsynced there. Killed before a COMMIT, state.db comes back
 * at the last one, with its applied index, and the driver applies the later entries again from
 * raft.db (which compacts only behind a snapshot, and a snapshot commits first). Anything that
 * needs state.db outside a transaction (a snapshot or backup image, installing a snapshot,
 * closing) calls flush() first.
 */
import {
  CfgError,
  type ChangeOp,
  type ConflictEntry,
  canonicalize,
  canonicalJson,
  type GitProvenance,
  httpStatusFor,
  type JsonValue,
  keyProblem,
  type PlannedChange,
  type ProjectInfo,
  type PushResult,
  projectNameProblem,
  type RevisionKind,
  type SchemaBinding,
  type ValidationIssue,
} from "@cfguardian/shared";
import { checkSchemaSet, compileSchemaSet } from "@cfguardian/shared/schema-validation";
import { appendAuditRecord, applyMetadataOp } from "../metadata/embedded/apply.js";
import type { WalCheckpoints } from "../storage/checkpoints.js";
import { ChangeFeed } from "./change-feed.js";
import type { ApplyOutcome, Command } from "./commands.js";
import { type ConfigRow, type ProjectRow, StateStore } from "./state-store.js";

interface Desired {
  key: string;
  /** null: the key must not exist. */
  value: JsonValue | null;
}

/** What a change stores: its canonical text and hash (null: deleted), beside its PlannedChange. */
interface Stored {
  text: string | null;
  sha256: string | null;
}

/** A key as a revision wrote it: its canonical text and hash (null: deleted) and new version. */
interface Written {
  op: ChangeOp["op"];
  key: string;
  version: number;
  text: string | null;
  sha256: string | null;
}

/** Thrown inside a savepoint to roll the command back; carries the outcome to report. */
class Rejection extends Error {
  constructor(readonly error: CfgError) {
    super(error.message);
  }
}

/**
 * state.db is checkpointed every this many group commits: under load one commit per 100 ms, so
 * about once a second, when its WAL holds a few MiB (SQLite's own default is 1,000 pages).
 */
const CHECKPOINT_EVERY_COMMITS = 10;

const reject = (code: CfgError["code"], message: string, extensions: Record<string, unknown> = {}): never => {
  throw new Rejection(new CfgError(code, message, extensions));
};

/** Sentinel that makes a dry run roll back after computing its result. */
class DryRunDone extends Error {
  constructor(readonly value: unknown) {
    super("dry run");
  }
}

/**
 * One committed log entry to apply: a command, or nothing (a leader's no-op or a conf change);
 * a conf change records the member's URL (`url` null: the member was removed) and whether a
 * learner is to be promoted once caught up.
 */
export interface BatchEntry {
  index: number;
  command: Command | null;
  member?: { id: string; url: string | null; promote?: boolean };
}

export class StateMachine {
  /** Published after every applied batch (watchers and blocking reads listen). */
  readonly changes = new ChangeFeed();

  /** The applied index as of the last applied batch; read from state.db when unknown. */
  private applied: number | null = null;

  /** The open group transaction's COMMIT: scheduled exactly while a group transaction is open. */
  private commitTimer: NodeJS.Timeout | null = null;

  /**
   * Runs a function in a transaction (a savepoint inside an open one). Made once: better-sqlite3
   * builds a new wrapper per transaction() call, which cost more than the savepoint itself.
   */
  private readonly inTransaction: (run: () => void) => void;
  private commitsSinceCheckpoint = 0;
  /** holdCommits() not yet released. */
  private holds = 0;

  constructor(
    readonly store: StateStore,
    private readonly options: { commitEveryMs?: number; checkpoints?: WalCheckpoints } = {},
  ) {
    this.inTransaction = store.db.transaction((run: () => void) => run());
  }

  /** Commit the open group transaction, if there is one (see the header). */
  flush(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    if (this.store.db.open && this.store.db.inTransaction) {
      this.store.db.exec("COMMIT");
      this.afterCommit();
    }
  }

  /**
   * With no transaction open: the end of a checkpoint whose bulk ran on a worker thread, or the
   * start of one every CHECKPOINT_EVERY_COMMITS group commits (checkpoints.ts).
   */
  private afterCommit(): void {
    const checkpoints = this.options.checkpoints;
    if (!checkpoints || checkpoints.catchUp()) return;
    if (++this.commitsSinceCheckpoint < CHECKPOINT_EVERY_COMMITS) return;
    this.commitsSinceCheckpoint = 0;
    checkpoints.start();
  }

  /** Roll the open group transaction back: state.db is as of its last COMMIT again. */
  private abandonGroup(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    this.applied = null;
    try {
      if (this.store.db.inTransaction) this.store.db.exec("ROLLBACK");
    } catch {
      // SQLite rolls some failures back by itself; either way nothing of the group is left.
    }
  }

  private openGroup(): void {
    const every = this.options.commitEveryMs ?? 0;
    if (every <= 0 || this.store.db.inTransaction) return;
    this.store.db.exec("BEGIN");
    this.armCommit(every);
  }

  private armCommit(every: number): void {
    this.commitTimer = setTimeout(() => {
      if (this.holds > 0) this.armCommit(every);
      else this.flush();
    }, every);
    this.commitTimer.unref?.();
  }

  /**
   * Keep state.db's committed state where it is (the group commit waits) until the returned
   * function is called: another connection reading it meanwhile (a snapshot image made on the
   * storage worker) sees exactly what was applied up to now. flush() still commits; null without
   * group commit, where every batch commits as it is applied.
   */
  holdCommits(): (() => void) | null {
    if ((this.options.commitEveryMs ?? 0) <= 0) return null;
    this.flush();
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  get appliedIndex(): number {
    this.applied ??= this.store.appliedIndex();
    return this.applied;
  }

  /** state.db was replaced under the machine (a snapshot installed): read it afresh. */
  reloaded(): void {
    this.applied = null;
  }

  /**
   * Apply a batch of committed entries in one transaction, with the applied index written in the
   * same transaction. A crash before the commit applies nothing of the batch; replay from the log
   * applies it again from the recorded index.
   *
   * In group commit the batch goes into the open group transaction as it is: a savepoint around it
   * made SQLite copy every page the batch changed into a statement journal first (with the one
   * around each single-key write, a third of the time of an apply). It is atomic all the same: if
   * anything throws, the whole group is rolled back (state.db is back at its last COMMIT, applied
   * index included) and the error goes on up. The caller must then stop applying: cfgd exits, and
   * its restart applies those entries again from the log, in order.
   */
  applyBatch(entries: BatchEntry[]): ApplyOutcome[] {
    const outcomes: ApplyOutcome[] = [];
    const touched = new Set<string>();
    for (const entry of entries) {
      const c = entry.command;
      if (c && "project" in c) touched.add(c.project);
      else if (c?.type === "create-project") touched.add(c.name);
      // Wakes the project's watchers, which then check that their credential still holds.
      else if (c?.type === "metadata" && "project" in c.op) touched.add(c.op.project);
    }
    this.applied = null;
    this.openGroup();
    const apply = () => {
      for (const entry of entries) {
        if (entry.member?.url)
          this.store.setMember(entry.member.id, entry.member.url, entry.member.promote ?? false);
        else if (entry.member) this.store.removeMember(entry.member.id);
        const outcome = entry.command ? this.applyOne(entry.command) : { ok: true as const, value: null };
        if (entry.command?.meta.audit) this.recordAudit(entry.command, outcome);
        outcomes.push(outcome);
      }
      if (entries.length > 0) this.store.setAppliedIndex(entries[entries.length - 1]!.index);
    };
    const inGroup = this.commitTimer !== null;
    this.batchRows = new Map();
    try {
      if (inGroup) {
        try {
          apply();
        } catch (error) {
          this.abandonGroup();
          throw error;
        }
      } else this.inTransaction(apply);
    } finally {
      this.batchRows = null;
    }
    if (entries.length > 0) this.applied = entries[entries.length - 1]!.index;
    this.changes.publish(touched);
    return outcomes;
  }

  /**
   * What every write of a project reads first, its row and its schema set in force, read once per
   * batch (two statements of a single-key write, and the schema set's JSON parsed, on every node):
   * within a batch this machine is the only writer, and it keeps them up to date as it writes
   * (commit). Anything else that changes a project drops its entry, and a refused command that may
   * have written (in its savepoint) drops them all. Null outside applyBatch: a dry run reads afresh.
   */
  private batchRows: Map<
    string,
    { project: ProjectRow; schemas?: { revision: number; schemas: readonly SchemaBinding[] } }
  > | null = null;

  /** The audit record a command carries, with its result, in the command's transaction. */
  private recordAudit(command: Command, outcome: ApplyOutcome): void {
    const status = outcome.ok ? 200 : httpStatusFor(outcome.code);
    // False for a record already there (the same entry applied again from an old log): not an error.
    appendAuditRecord(
      this.store.db,
      command.meta.audit!,
      outcome.ok ? "ok" : status < 500 ? "refused" : "failed",
      outcome.ok ? null : `${status} ${outcome.code}`,
    );
  }

  /** Run a command against the current state and roll it back: the answer of a dry run. */
  simulate(command: Command): ApplyOutcome {
    try {
      this.inTransaction(() => {
        const outcome = this.applyOne(command);
        throw new DryRunDone(outcome);
      });
    } catch (error) {
      if (error instanceof DryRunDone) return error.value as ApplyOutcome;
      throw error;
    }
    throw new Error("unreachable");
  }

  private applyOne(command: Command): ApplyOutcome {
    try {
      let value: unknown;
      // A single-key write refuses (throws a Rejection) only before it writes anything: commit()
      // checks everything first and writes last. It needs no savepoint of its own (the batch's
      // holds it), which was two statements of the eight or so that a put costs on every node.
      if (command.type === "put-key" || command.type === "delete-key") value = this.execute(command);
      else
        this.inTransaction(() => {
          value = this.execute(command);
        });
      return { ok: true, value };
    } catch (error) {
      if (command.type !== "put-key" && command.type !== "delete-key") this.batchRows?.clear();
      if (error instanceof Rejection) {
        return {
          ok: false,
          code: error.error.code,
          message: error.message,
          extensions: error.error.extensions,
        };
      }
      throw error;
    }
  }

  private execute(command: Command): unknown {
    switch (command.type) {
      case "create-project": {
        const problem = projectNameProblem(command.name);
        if (problem) reject("bad_request", problem);
        if (this.store.project(command.name)) reject("conflict", `project ${command.name} already exists`);
        this.store.insertProject(command.name, command.meta.at);
        this.batchRows?.delete(command.name);
        return this.projectInfo(command.name);
      }
      case "delete-project":
        this.requireProject(command.project);
        this.store.deleteProject(command.project);
        this.batchRows?.delete(command.project);
        return { deleted: command.project };
      case "push":
        return this.push(command);
      case "rollback":
        return this.rollback(command);
      case "put-key":
      case "delete-key":
        return this.writeOneKey(command);
      case "put-schema":
      case "delete-schema":
        return this.changeOneSchema(command);
      case "metadata":
        try {
          return applyMetadataOp(this.store.db, command.op);
        } catch (error) {
          if (error instanceof CfgError) reject(error.code, error.message, error.extensions);
          throw error;
        }
    }
  }

  projectInfo(name: string): ProjectInfo {
    const row = this.requireProject(name);
    return {
      name: row.name,
      revision: row.revision,
      keyCount: this.store.keyCount(name),
      createdAt: row.created_at,
    };
  }

  private requireProject(name: string): ProjectRow {
    const known = this.batchRows?.get(name);
    if (known) return known.project;
    const row = this.store.project(name);
    if (!row)
      reject("not_found", `project ${name} does not exist; create it with 'cfg project create ${name}'`);
    this.batchRows?.set(name, { project: row! });
    return row!;
  }

  /** The project's schema set in force at its current revision `revision` (see batchRows). */
  private currentSchemaSet(
    project: string,
    revision: number,
  ): { revision: number; schemas: readonly SchemaBinding[] } {
    const known = this.batchRows?.get(project);
    if (known?.schemas && known.project.revision === revision) return known.schemas;
    const set = this.store.schemaSetAt(project, revision);
    if (known && known.project.revision === revision) known.schemas = set;
    return set;
  }

  private push(command: Extract<Command, { type: "push" }>): PushResult {
    const project = this.requireProject(command.project);
    if (
      !Number.isInteger(command.baseRevision) ||
      command.baseRevision < 0 ||
      command.baseRevision > project.revision
    ) {
      reject(
        "bad_request",
        `baseRevision ${command.baseRevision} is not a revision of ${command.project} (it is at ${project.revision})`,
      );
    }
    const seen = new Set<string>();
    const desired: Desired[] = [];
    for (const change of command.changes) {
      const problem = keyProblem(change.key);
      if (problem) reject("bad_request", problem);
      if (seen.has(change.key)) reject("bad_request", `key ${change.key} appears twice in one push`);
      seen.add(change.key);
      desired.push({ key: change.key, value: change.op === "put" ? change.value : null });
    }
    // Optimistic locking: any touched key changed after the plan's base revision refuses the push.
    const conflicts: ConflictEntry[] = [];
    for (const key of seen) {
      const last = this.store.versionAt(command.project, key, project.revision);
      if (last && last.revision > command.baseRevision) {
        conflicts.push({
          key,
          currentVersion: last.value === null ? 0 : last.version,
          changedAtRevision: last.revision,
        });
      }
    }
    const currentSchemas = this.store.schemaSetAt(command.project, project.revision);
    if (command.schemas !== undefined && currentSchemas.revision > command.baseRevision) {
      conflicts.push({ key: "(schemas)", currentVersion: 0, changedAtRevision: currentSchemas.revision });
    }
    if (conflicts.length > 0) {
      reject(
        "conflict",
        `${conflicts.length} key(s) changed after revision ${command.baseRevision}; diff again and retry`,
        {
          conflicts,
        },
      );
    }
    return this.commit(
      command,
      "push",
      desired,
      command.schemas,
      null,
      command.git ?? null,
      command.message ?? null,
    ).push;
  }

  private rollback(command: Extract<Command, { type: "rollback" }>): PushResult {
    const project = this.requireProject(command.project);
    const to = command.toRevision;
    if (!Number.isInteger(to) || to < 0 || to >= project.revision) {
      reject(
        "bad_request",
        `toRevision must be an earlier revision of ${command.project}: 0 to ${project.revision - 1}`,
      );
    }
    if (command.baseRevision !== undefined && command.baseRevision !== project.revision) {
      const changed = this.store.revisions(
        command.project,
        project.revision + 1,
        project.revision - command.baseRevision,
      );
      const conflicts = changed.flatMap((r) =>
        r.changes.map((c) => ({ key: c.key, currentVersion: c.version, changedAtRevision: r.revision })),
      );
      reject(
        "conflict",
        `${command.project} moved from revision ${command.baseRevision} to ${project.revision}; preview again`,
        {
          conflicts,
        },
      );
    }
    const then = this.store.stateAt(command.project, to);
    let desired: Desired[];
    let schemas: readonly SchemaBinding[] | undefined;
    if (command.keys) {
      desired = command.keys.map((key) => {
        const problem = keyProblem(key);
        if (problem) reject("bad_request", problem);
        const row = then.get(key);
        return { key, value: row?.value ? StateStore.parseValue(row.value) : null };
      });
    } else {
      desired = [...then.values()].map((row) => ({ key: row.key, value: StateStore.parseValue(row.value!) }));
      for (const row of this.store.configs(command.project)) {
        if (!then.has(row.key)) desired.push({ key: row.key, value: null });
      }
      schemas = this.store.schemaSetAt(command.project, to).schemas;
    }
    return this.commit(command, "rollback", desired, schemas, to, null, command.message ?? null).push;
  }

  private writeOneKey(command: Extract<Command, { type: "put-key" | "delete-key" }>) {
    const project = this.requireProject(command.project);
    const problem = keyProblem(command.key);
    if (problem) reject("bad_request", problem);
    const current = this.store.config(command.project, command.key);
    if (command.ifMatch !== undefined && (current?.version ?? 0) !== command.ifMatch) {
      reject(
        "precondition_failed",
        `If-Match: ${command.ifMatch} does not hold: ${command.key} is at version ${current?.version ?? 0}; nothing was changed`,
        { currentVersion: current?.version ?? 0 },
      );
    }
    if (command.type === "delete-key" && !current) {
      reject("not_found", `key ${command.key} does not exist in ${command.project}`);
    }
    const value = command.type === "put-key" ? command.value : null;
    const kind: RevisionKind = command.type === "put-key" ? "put" : "delete";
    const { push, written } = this.commit(
      command,
      kind,
      [{ key: command.key, value }],
      undefined,
      null,
      null,
      null,
      {
        project,
        key: command.key,
        row: current,
      },
    );
    if (command.type === "delete-key") return { push, entry: null };
    // The key's row as it is now: as just written, or as it was (the same value: no change).
    const put = written[0];
    const row: ConfigRow = put
      ? {
          key: command.key,
          value: put.text!,
          sha256: put.sha256!,
          version: put.version,
          mod_revision: push.revision,
          updated_at: command.meta.at,
        }
      : current!;
    return { push, entry: { row, revision: push.revision } };
  }

  private changeOneSchema(command: Extract<Command, { type: "put-schema" | "delete-schema" }>): PushResult {
    const project = this.requireProject(command.project);
    const current = this.store.schemaSetAt(command.project, project.revision).schemas;
    const name = command.type === "put-schema" ? command.binding.name : command.name;
    if (command.type === "delete-schema" && !current.some((s) => s.name === name)) {
      reject("not_found", `schema ${name} does not exist in ${command.project}`);
    }
    const next = current.filter((s) => s.name !== name);
    if (command.type === "put-schema") next.push(command.binding);
    next.sort((a, b) => (a.name < b.name ? -1 : 1));
    return this.commit(
      command,
      "schema",
      [],
      next,
      null,
      null,
      `schema ${name} ${command.type === "put-schema" ? "set" : "deleted"}`,
    ).push;
  }

  /**
   * The common end of every write: validate the resulting state against the schemas in force
   * after it, refuse with every error, or write one new revision (none if nothing changes).
   * NB: every refusal comes before the first write (applyOne relies on it for single-key writes).
   * Returns the result and what each changed key was written as. `known`: the project's row and
   * one key's row that the caller has just read in this transaction (one lookup less each), from
   * a single-key write, whose result's changes carry no `before`.
   */
  private commit(
    command: Command & { project: string },
    kind: RevisionKind,
    desired: Desired[],
    schemas: readonly SchemaBinding[] | undefined,
    rollbackTo: number | null,
    git: GitProvenance | null,
    message: string | null,
    known?: { project: ProjectRow; key: string; row: ConfigRow | undefined },
  ): { push: PushResult; written: Written[] } {
    const project = known?.project ?? this.requireProject(command.project);
    const previousRevision = project.revision;
    // The answer's changes, and beside them what each stores. Objects are built whole here, not
    // spread or destructured: on every node, for every write, those took the runtime's slow paths.
    const changes: PlannedChange[] = [];
    const stored: Stored[] = [];
    for (const { key, value } of desired) {
      const current = known?.key === key ? known.row : this.store.config(command.project, key);
      if (value === null) {
        if (current) {
          const change: PlannedChange = { op: "delete", key, fromVersion: current.version, toVersion: 0 };
          if (!known) change.before = StateStore.parseValue(current.value);
          changes.push(change);
          stored.push({ text: null, sha256: null });
        }
        continue;
      }
      let canonical: { text: string; sha256: string };
      try {
        canonical = canonicalize(value);
      } catch (error) {
        return reject("bad_request", `value of ${key} is not JSON: ${(error as Error).message}`);
      }
      if (current?.sha256 === canonical.sha256) continue;
      const change: PlannedChange = {
        op: "put",
        key,
        fromVersion: current?.version ?? 0,
        // While a key exists its row holds its latest version; only a new or re-created key
        // needs the history's (versions keep counting across deletes).
        toVersion: current ? current.version + 1 : this.store.nextVersion(command.project, key),
      };
      // A single-key write (known) is answered with the key's entry, never its changes' values:
      // the old value is not parsed back, on every node, for every write.
      if (current && !known) change.before = StateStore.parseValue(current.value);
      change.after = value;
      changes.push(change);
      stored.push(canonical);
    }
    const currentSchemas = this.currentSchemaSet(command.project, previousRevision).schemas;
    let nextSchemas = currentSchemas;
    let schemasChanged = false;
    if (schemas !== undefined) {
      const problems = checkSchemaSet(schemas);
      if (problems.length > 0) {
        reject("validation_failed", `${problems.length} problem(s) in the schema set; nothing was applied`, {
          errors: problems,
        });
      }
      const normalized = [...schemas]
        .map((s) => ({ name: s.name, match: s.match, schema: s.schema }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      schemasChanged = canonicalJson(normalized) !== canonicalJson(currentSchemas);
      nextSchemas = normalized;
    }
    const issues = this.validate(command.project, changes, nextSchemas, schemasChanged);
    if (issues.length > 0) {
      reject("validation_failed", `${issues.length} schema violation(s); nothing was applied`, {
        errors: issues,
      });
    }
    const result: PushResult = {
      project: command.project,
      revision: previousRevision,
      previousRevision,
      applied: false,
      dryRun: false,
      changes,
      schemasChanged,
    };
    if (changes.length === 0 && !schemasChanged) return { push: result, written: [] };
    const revision = previousRevision + 1;
    const written: Written[] = changes.map((change, i) => {
      const { text, sha256 } = stored[i]!;
      const version = this.store.writeKey(
        command.project,
        change.key,
        text,
        sha256,
        // A deletion is a version too (its value null): the one after the deleted value's.
        change.op === "put" ? change.toVersion : change.fromVersion + 1,
        revision,
        command.meta.at,
      );
      return { op: change.op, key: change.key, text, sha256, version };
    });
    if (schemasChanged) this.store.setSchemaSet(command.project, revision, nextSchemas);
    this.store.setRevision(command.project, revision);
    const rows = this.batchRows?.get(command.project);
    if (rows) {
      rows.project = { name: rows.project.name, revision, created_at: rows.project.created_at };
      // A schema set just written is read back afresh (no reference to the command's objects kept).
      if (schemasChanged) delete rows.schemas;
    }
    this.store.insertRevision({
      project: command.project,
      revision,
      kind,
      createdAt: command.meta.at,
      actor: command.meta.actor,
      message: message ?? git?.message ?? null,
      git,
      rollbackTo,
      schemasChanged,
      changes: written.map(({ op, key, version }) => ({ op, key, version })),
    });
    result.revision = revision;
    result.applied = true;
    return { push: result, written };
  }

  /** Every schema error of the state after `changes`: new values, and all values if schemas changed. */
  private validate(
    project: string,
    changes: PlannedChange[],
    schemas: readonly SchemaBinding[],
    schemasChanged: boolean,
  ): ValidationIssue[] {
    if (schemas.length === 0) return [];
    const compiled = compileSchemaSet(schemas);
    const issues: ValidationIssue[] = [];
    const changed = new Set(changes.map((c) => c.key));
    for (const change of changes) {
      if (change.op === "put") issues.push(...compiled.validate(change.key, change.after!));
    }
    if (schemasChanged) {
      for (const row of this.store.configs(project)) {
        if (changed.has(row.key) || compiled.schemasFor(row.key).length === 0) continue;
        issues.push(...compiled.validate(row.key, StateStore.parseValue(row.value)));
      }
    }
    return issues;
  }
}
