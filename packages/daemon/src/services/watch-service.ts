/**
 * What apps use to follow their configs: revisions after a point (for watch streams) and waiting
 * for a change (for blocking reads). Both read the node's own applied state and wake on the state
 * machine's change feed, so a follower serves them as well as the leader, and a watcher that
 * resumes on another node, after a restart or a leader change, continues at the same revision:
 * revisions are replicated state, identical on every node.
 */
import { CfgError, type JsonValue, type WatchEvent, type WatchReset } from "@cfguardian/shared";
import type { StateMachine } from "../state/state-machine.js";

/** What a watcher gets next: events, the revision to continue after, or a reset. */
export interface EventsAfter {
  events: WatchEvent[];
  next: number;
  reset?: WatchReset;
}

export const MAX_WAIT_MS = 5 * 60_000;

export class WatchService {
  constructor(private readonly machine: StateMachine) {}

  private get store() {
    return this.machine.store;
  }

  projectRevision(project: string): number | null {
    return this.store.project(project)?.revision ?? null;
  }

  /**
   * The next events after revision `after` (at most `limit` revisions looked at), or a reset when
   * the watcher cannot continue. `next` is the revision to continue after.
   */
  eventsAfter(
    project: string,
    after: number,
    options: { prefix?: string; values?: boolean; limit?: number } = {},
  ): EventsAfter {
    // One change wakes every watcher of the project at once, and they mostly ask the same thing:
    // the answer is shared until the state changes again (the result must not be modified).
    const generation = this.machine.changes.generation;
    if (generation !== this.memoGeneration) {
      this.memo.clear();
      this.memoGeneration = generation;
    }
    const key = `${project}\u0000${after}\u0000${options.prefix ?? "\u0001"}\u0000${options.values === true}\u0000${options.limit ?? 100}`;
    let result = this.memo.get(key);
    if (result === undefined) {
      result = this.readEventsAfter(project, after, options);
      if (this.memo.size >= 1024) this.memo.clear();
      this.memo.set(key, result);
    }
    return result;
  }

  private readonly memo = new Map<string, EventsAfter>();
  private memoGeneration = -1;

  private readEventsAfter(
    project: string,
    after: number,
    options: { prefix?: string; values?: boolean; limit?: number },
  ): EventsAfter {
    const row = this.store.project(project);
    if (!row) {
      return {
        events: [],
        next: after,
        reset: {
          project,
          reason: "deleted",
          revision: 0,
          message: `project ${project} does not exist (any more)`,
        },
      };
    }
    const first = this.store.firstRevision(project);
    if (first !== null && after + 1 < first) {
      return {
        events: [],
        next: after,
        reset: {
          project,
          reason: "compacted",
          revision: row.revision,
          message: `history before revision ${first} is gone; re-read the project and watch from ${row.revision}`,
        },
      };
    }
    const records = this.store.revisionsAfter(project, after, options.limit ?? 100);
    const events: WatchEvent[] = [];
    let next = after;
    for (const record of records) {
      next = record.revision;
      const changes = record.changes
        .filter((change) => options.prefix === undefined || change.key.startsWith(options.prefix))
        .map((change) => ({
          ...change,
          ...(options.values
            ? {
                value:
                  change.op === "delete"
                    ? null
                    : this.store.versionValue(project, change.key, change.version),
              }
            : {}),
        }));
      if (changes.length === 0 && options.prefix !== undefined) continue;
      events.push({
        project,
        revision: record.revision,
        kind: record.kind,
        createdAt: record.createdAt,
        actor: record.actor,
        message: record.message,
        changes,
      });
    }
    return { events, next };
  }

  /** The revision at which `key` last changed (put or delete), or 0 if it never existed. */
  lastChange(project: string, key: string): number {
    const row = this.store.project(project);
    if (!row) throw new CfgError("not_found", `project ${project} does not exist`);
    return this.store.versionAt(project, key, row.revision)?.revision ?? 0;
  }

  /** Start listening for changes of `project`; read state only after this, then wait. */
  follow(project: string): ChangeWaiter {
    return new ChangeWaiter(this.machine, project);
  }

  /**
   * Blocking read (like Consul's ?index=): resolves as soon as `key` changed after revision
   * `index`, or when `waitMs` ran out. `changed` says which.
   */
  async waitForKey(
    project: string,
    key: string,
    index: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<{ changed: boolean }> {
    const deadline = Date.now() + Math.min(waitMs, MAX_WAIT_MS);
    const waiter = this.follow(project);
    try {
      for (;;) {
        if (this.lastChange(project, key) > index) return { changed: true };
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return { changed: false };
        await waiter.wait(left, signal);
      }
    } finally {
      waiter.close();
    }
  }

  value(project: string, key: string, version: number): JsonValue | null {
    return this.store.versionValue(project, key, version);
  }

  get listeners(): number {
    return this.machine.changes.size;
  }
}

/**
 * Wakes a reader when its project changes. Created before the reader looks at the state, so a
 * change that lands between the look and the wait is not lost: wait() then returns at once.
 */
export class ChangeWaiter {
  private dirty = false;
  private wake: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(machine: StateMachine, project: string) {
    this.unsubscribe = machine.changes.subscribe((projects) => {
      if (projects !== null && !projects.has(project)) return;
      this.dirty = true;
      this.wake?.();
    });
  }

  /** True when a change came (since the last wait), false after `ms` or an abort. */
  wait(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.dirty) {
      this.dirty = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = (changed: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.wake = undefined;
        this.dirty = false;
        resolve(changed);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener("abort", onAbort);
      this.wake = () => done(true);
    });
  }

  close(): void {
    this.unsubscribe();
    this.wake?.();
  }
}
