/**
 * What the read path last found in state.db, valid for one applied index: every applied batch
 * (and every snapshot installed) moves the index, and then the whole cache is dropped, so a read
 * never sees anything older than a read of state.db at the same moment would. Configs are read
 * far more often than they change; between two changes a read of a key answers from here instead
 * of two SQLite lookups and a JSON.parse. Bounded by entries and by bytes of values.
 */
export class ReadCache<V> {
  private index = -1;
  private readonly items = new Map<string, V>();
  private bytes = 0;

  constructor(
    private readonly appliedIndex: () => number,
    private readonly maxItems = 4096,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  get(key: string): V | undefined {
    this.check();
    return this.items.get(key);
  }

  /** Keep `value` (of about `size` bytes) for `key` until the applied index moves. */
  set(key: string, value: V, size: number): void {
    this.check();
    if (size > this.maxBytes) return;
    if (this.items.size >= this.maxItems || this.bytes + size > this.maxBytes) this.clear();
    this.items.set(key, value);
    this.bytes += size;
  }

  private check(): void {
    const index = this.appliedIndex();
    if (index === this.index) return;
    this.clear();
    this.index = index;
  }

  private clear(): void {
    this.items.clear();
    this.bytes = 0;
  }
}
