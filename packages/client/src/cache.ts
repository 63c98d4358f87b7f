/**
 * The last-known-good cache: every value the client has read or been told of, kept in memory and
 * (with `cacheFile`) on disk, so that an app that restarts while the whole cluster is down still
 * starts with the configs it last had. Written to a temp file, fsynced and renamed: a crash leaves
 * the old file or the new one, never half of one.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import type { JsonValue } from "@cfguardian/shared";

export interface CachedEntry {
  key: string;
  value: JsonValue;
  version: number;
  /** The project revision it was read at. */
  revision: number;
  /** ISO time it was stored. */
  storedAt: string;
}

interface CacheFile {
  project: string;
  entries: Record<string, CachedEntry>;
}

export class LastKnownGood {
  private readonly entries = new Map<string, CachedEntry>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly project: string,
    private readonly file?: string,
  ) {
    if (!file) return;
    try {
      const data = JSON.parse(readFileSync(file, "utf8")) as CacheFile;
      if (data.project === project)
        for (const [key, entry] of Object.entries(data.entries)) this.entries.set(key, entry);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        // A damaged cache is no worse than none: start empty, and it is rewritten on the next read.
      }
    }
  }

  get(key: string): CachedEntry | undefined {
    return this.entries.get(key);
  }

  /** Keep `entry` if it is newer than what is kept. */
  put(entry: Omit<CachedEntry, "storedAt">): void {
    const known = this.entries.get(entry.key);
    if (known && known.revision > entry.revision) return;
    this.entries.set(entry.key, { ...entry, storedAt: new Date().toISOString() });
    this.schedule();
  }

  delete(key: string, revision: number): void {
    const known = this.entries.get(key);
    if (!known || known.revision > revision) return;
    this.entries.delete(key);
    this.schedule();
  }

  keys(): string[] {
    return [...this.entries.keys()].sort();
  }

  private schedule(): void {
    if (!this.file) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, 50);
    this.timer.unref?.();
  }

  /** Write the file now (also done shortly after every change). */
  flush(): void {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    const data: CacheFile = { project: this.project, entries: Object.fromEntries(this.entries) };
    const temp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flush();
  }
}
