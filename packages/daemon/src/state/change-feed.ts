/**
 * Tells the node's readers (watch streams, blocking reads) that applied state changed. Published
 * after each applied batch, with the projects it touched, or `null` for "anything may have
 * changed" (a snapshot was installed). Listeners only learn *that* something changed; they read
 * what changed from state.db, so a burst of changes costs one read, and nothing is missed.
 *
 * Listeners are called on the next turn of the event loop (setImmediate), once for all the
 * batches applied before it: the proposals a batch resolves are answered first, so a write is not
 * held up by the hundreds of watchers it wakes, and a burst of batches wakes each watcher once.
 * `generation` moves at once, so that nothing read before the publish is taken as current.
 */
export type ChangeListener = (projects: ReadonlySet<string> | null) => void;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();
  /** Projects changed since the last notification; `null` for all; undefined when none is due. */
  private pending: Set<string> | null | undefined;

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  /** Moves on every publish: state read before a publish may be stale after it. */
  generation = 0;

  publish(projects: ReadonlySet<string> | null): void {
    this.generation++;
    if (projects !== null && projects.size === 0) return;
    const due = this.pending !== undefined;
    if (projects === null || this.pending === null) this.pending = null;
    else {
      this.pending ??= new Set();
      for (const project of projects) this.pending.add(project);
    }
    if (!due) setImmediate(() => this.notify());
  }

  private notify(): void {
    const projects = this.pending;
    this.pending = undefined;
    if (projects === undefined) return;
    for (const listener of this.listeners) listener(projects);
  }
}
