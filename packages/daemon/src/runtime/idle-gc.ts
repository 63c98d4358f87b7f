/**
 * Gives memory back once a node goes quiet after heavy work. A push of 10,000 keys leaves tens of
 * megabytes of garbage (request bodies, log entries, frames) in V8's heap, and V8 returns it only
 * when it next collects, which a node with no more work to do may not do for a long time: a
 * leader that took 100,000 keys held 200 MB 20 s after the last push, 134-150 MB after one full
 * collection. So twice a second the node looks at its resident memory and at how busy its
 * event loop was; when memory has grown well past where it last settled and the loop was nearly
 * idle, it runs one full collection, which costs a pause only when there is nothing to pause.
 */

import { performance } from "node:perf_hooks";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export interface IdleGcOptions {
  /** Grow this many bytes past the last settled size before collecting (32 MiB). */
  growthBytes?: number;
  /** Event loop utilization (0..1) below which an interval counts as quiet (0.05). */
  quietUtilization?: number;
}

/** What one check decided, from what it read: pure, so that it can be tested without a heap. */
export class IdleGcPolicy {
  private settled: number;
  private readonly growth: number;
  private readonly quiet: number;

  constructor(startRss: number, options: IdleGcOptions = {}) {
    this.settled = startRss;
    this.growth = options.growthBytes ?? 32 * 1024 * 1024;
    this.quiet = options.quietUtilization ?? 0.05;
  }

  /** True when a collection is due: memory grew past the mark while the loop was quiet. */
  due(rss: number, utilization: number): boolean {
    if (rss < this.settled) this.settled = rss;
    return utilization < this.quiet && rss > this.settled + this.growth;
  }

  /** After a collection: what is left is the new mark, so live data never triggers another. */
  collected(rss: number): void {
    this.settled = rss;
  }
}

/**
 * V8's full collection as a function, or undefined where it cannot be had. `--expose-gc` given
 * after start does not add `gc` to the main context, but a context made afterwards has it.
 */
export function fullGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return existing;
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("typeof gc === 'function' ? gc : undefined") as (() => void) | undefined;
  return typeof gc === "function" ? gc : undefined;
}

export interface IdleGcEvent {
  rssBefore: number;
  rssAfter: number;
  ms: number;
}

/**
 * Check every `intervalMs` (500 ms: a burst's garbage is given back within a second of the burst,
 * and a check is two counters read) until the returned stop() is called. The timer keeps no
 * process alive.
 */
export function startIdleGc(
  onCollect: (event: IdleGcEvent) => void,
  options: IdleGcOptions & { intervalMs?: number } = {},
): () => void {
  const gc = fullGc();
  if (!gc) return () => {};
  const policy = new IdleGcPolicy(process.memoryUsage.rss(), options);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    const rssBefore = process.memoryUsage.rss();
    if (!policy.due(rssBefore, utilization)) return;
    const started = performance.now();
    // Twice: memory that the first collection's finalizers let go (buffers' backing stores)
    // is only reclaimed by the next one.
    gc();
    gc();
    const ms = performance.now() - started;
    const rssAfter = process.memoryUsage.rss();
    policy.collected(rssAfter);
    last = performance.eventLoopUtilization(); // the pause is not load
    onCollect({ rssBefore, rssAfter, ms });
  }, options.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}
