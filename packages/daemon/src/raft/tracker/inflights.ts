/** The last indexes of append messages in flight to one follower: a bounded window. */
export class Inflights {
  private readonly buffer: number[] = [];

  constructor(readonly size: number) {}

  add(lastIndex: number): void {
    this.buffer.push(lastIndex);
  }

  /** The follower acknowledged up to `index`: free every message that ended at or before it. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.buffer.length && this.buffer[n]! <= index) n++;
    if (n > 0) this.buffer.splice(0, n);
  }

  freeFirstOne(): void {
    this.buffer.shift();
  }

  full(): boolean {
    return this.buffer.length >= this.size;
  }

  count(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer.length = 0;
  }
}
