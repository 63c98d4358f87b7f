/**
 * Tells the node's readers (watch streams, blocking reads) that applied state changed. Published
 * after each state.db transaction commits, with the projects it touched, or `null` for "anything
 * may have changed" (a snapshot was installed). Listeners only learn *that* something changed; they
 * read what changed from state.db, so a burst of changes costs one read, and nothing is missed.
 */
export type ChangeListener = (projects: ReadonlySet<string> | null) => void;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

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
    for (const listener of this.listeners) listener(projects);
  }
}
