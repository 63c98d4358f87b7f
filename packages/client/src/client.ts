/**
 * A cfguardian client for Node apps: read configs by key with ETag caching, and watch a project's
 * changes as they are applied, from any node of a list. Reads fail over across nodes; a watch
 * reconnects with backoff to the next node and resumes after the last revision it delivered
 * (Last-Event-ID), so every revision reaches the app once and in order. Whatever was read is kept
 * as last-known-good (in memory and, with `cacheFile`, on disk): when no node answers, `get`
 * returns it marked `stale` instead of failing.
 */
import type { ConfigEntry, JsonValue, WatchEvent, WatchReset } from "@cfguardian/shared";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { LastKnownGood } from "./cache.js";

export interface ClientOptions {
  /** Base URLs of cfgd nodes (any subset of the cluster); tried in turn. */
  nodes: string[];
  /** A project API key (or any bearer token allowed to read the project). */
  apiKey: string;
  project: string;
  /** Where to keep last-known-good values across restarts (optional). */
  cacheFile?: string;
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Reconnect backoff: first delay and cap (default 100 ms and 10 s), with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Heartbeat the watch asks for; a stream silent for 3 of them is reconnected (default 5 s). */
  heartbeatMs?: number;
}

export interface ConfigValue {
  key: string;
  value: JsonValue;
  version: number;
  revision: number;
  /** True when no node answered and this is the last-known-good value. */
  stale: boolean;
}

export class NotFoundError extends Error {
  constructor(readonly key: string) {
    super(`${key} does not exist`);
    this.name = "NotFoundError";
  }
}

export class UnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnavailableError";
  }
}

/** A refusal that trying another node will not fix (bad key, bad API key, no access). */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RequestError";
  }
}

export interface WatchOptions {
  /** Only changes of keys starting with this. */
  prefix?: string;
  /** Deliver revisions after this one (default: only new ones). */
  afterRevision?: number;
  /** Include values in events (and keep them as last-known-good). Default true. */
  values?: boolean;
  onEvent(event: WatchEvent): void;
  /** The stream could not go on (project deleted, history gone): re-read, it goes on after `revision`. */
  onReset?(reset: WatchReset): void;
  /** A connection failed; the watch retries by itself. */
  onError?(error: Error, node: string): void;
  onConnect?(node: string): void;
}

export interface Watch {
  /** The last revision delivered. */
  readonly revision: number;
  close(): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

export class ConfigClient {
  private readonly nodes: string[];
  private current = 0;
  private readonly cache: LastKnownGood;
  private readonly etags = new Map<string, { etag: string; entry: ConfigEntry }>();
  private readonly watches = new Set<AbortController>();

  constructor(private readonly options: ClientOptions) {
    if (options.nodes.length === 0) throw new Error("ConfigClient needs at least one node URL");
    this.nodes = options.nodes.map((url) => url.replace(/\/+$/, ""));
    this.cache = new LastKnownGood(options.project, options.cacheFile);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.options.apiKey}`, ...extra };
  }

  /** The node list starting at the last one that worked. */
  private order(): string[] {
    return [...this.nodes.slice(this.current), ...this.nodes.slice(0, this.current)];
  }

  private keyPath(key: string): string {
    return `/v1/read/${encodeURIComponent(this.options.project)}/${key.split("/").map(encodeURIComponent).join("/")}`;
  }

  /**
   * One config. Conditional on the ETag already held (a 304 costs no body). When every node
   * fails, the last-known-good value is returned with `stale: true`; with none, it throws.
   */
  async get(
    key: string,
    options: { consistency?: "serializable" | "linearizable" } = {},
  ): Promise<ConfigValue> {
    const problems: string[] = [];
    for (const node of this.order()) {
      const known = this.etags.get(key);
      let response: Response;
      try {
        response = await fetch(
          `${node}${this.keyPath(key)}${options.consistency ? `?consistency=${options.consistency}` : ""}`,
          {
            headers: this.headers(known ? { "if-none-match": known.etag } : {}),
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
          },
        );
      } catch (error) {
        problems.push(`${node}: ${(error as Error).message}`);
        continue;
      }
      if (response.status === 304 && known) {
        this.current = this.nodes.indexOf(node);
        return { ...pick(known.entry), stale: false };
      }
      if (response.status === 200) {
        const entry = (await response.json()) as ConfigEntry;
        this.current = this.nodes.indexOf(node);
        this.etags.set(key, { etag: response.headers.get("etag") ?? `"${entry.version}"`, entry });
        this.cache.put({ key, value: entry.value, version: entry.version, revision: entry.revision });
        return { ...pick(entry), stale: false };
      }
      const text = await response.text();
      let problem: { code?: string; detail?: string; title?: string } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {}
      if (response.status === 404 && problem.code === "not_found") {
        this.current = this.nodes.indexOf(node);
        throw new NotFoundError(key);
      }
      if (
        response.status >= 400 &&
        response.status < 500 &&
        response.status !== 408 &&
        response.status !== 429
      ) {
        throw new RequestError(
          response.status,
          problem.code ?? "error",
          problem.detail ?? problem.title ?? text,
        );
      }
      problems.push(`${node}: HTTP ${response.status} ${problem.detail ?? ""}`.trim());
    }
    const cached = this.cache.get(key);
    if (cached)
      return { key, value: cached.value, version: cached.version, revision: cached.revision, stale: true };
    throw new UnavailableError(`no node answered for ${key}: ${problems.join("; ")}`);
  }

  /**
   * Follow the project's changes. Runs until close(): on any failure it waits (backoff with
   * jitter) and reconnects to the next node, resuming after the last delivered revision.
   */
  watch(options: WatchOptions): Watch {
    const controller = new AbortController();
    this.watches.add(controller);
    const state = { revision: options.afterRevision ?? -1 };
    const initialMs = this.options.backoff?.initialMs ?? 100;
    const maxMs = this.options.backoff?.maxMs ?? 10_000;
    const heartbeatMs = this.options.heartbeatMs ?? 5_000;
    const run = async () => {
      let failures = 0;
      let node = this.current;
      while (!controller.signal.aborted) {
        const url = this.nodes[node % this.nodes.length]!;
        const connection = new AbortController();
        const abort = () => connection.abort();
        controller.signal.addEventListener("abort", abort);
        let silence: NodeJS.Timeout | undefined;
        const alive = () => {
          clearTimeout(silence);
          silence = setTimeout(() => connection.abort(new Error("no heartbeat")), 3 * heartbeatMs);
        };
        try {
          const query = new URLSearchParams({ heartbeat: `${heartbeatMs}ms` });
          if (options.prefix !== undefined) query.set("prefix", options.prefix);
          if (options.values !== false) query.set("values", "true");
          const headers = this.headers({ accept: "text/event-stream" });
          // Resume after what was delivered; the first connection without afterRevision starts now.
          if (state.revision >= 0) headers["last-event-id"] = String(state.revision);
          alive();
          const response = await fetch(
            `${url}/v1/watch/${encodeURIComponent(this.options.project)}?${query}`,
            { headers, signal: connection.signal },
          );
          if (response.status !== 200 || !response.body) {
            const text = await response.text();
            if (
              response.status >= 400 &&
              response.status < 500 &&
              response.status !== 404 &&
              response.status !== 429
            ) {
              throw new RequestError(response.status, "refused", text);
            }
            throw new Error(`HTTP ${response.status} ${text.slice(0, 200)}`);
          }
          this.current = node % this.nodes.length;
          options.onConnect?.(url);
          const parser = createParser({
            onEvent: (message: EventSourceMessage) => {
              if (message.event === "revision") {
                const event = JSON.parse(message.data) as WatchEvent;
                if (event.revision <= state.revision) return; // already delivered: never twice
                state.revision = event.revision;
                failures = 0;
                for (const change of event.changes) {
                  if (change.op === "delete") this.cache.delete(change.key, event.revision);
                  else if (change.value !== undefined) {
                    this.cache.put({
                      key: change.key,
                      value: change.value as JsonValue,
                      version: change.version,
                      revision: event.revision,
                    });
                  }
                  this.etags.delete(change.key);
                }
                options.onEvent(event);
              } else if (message.event === "start") {
                // Where the server starts: from now on, reconnects resume after it, so nothing
                // applied after the first connection is missed.
                const start = JSON.parse(message.data) as { revision: number };
                if (state.revision < 0) state.revision = start.revision;
              } else if (message.event === "reset") {
                const reset = JSON.parse(message.data) as WatchReset;
                state.revision = reset.revision;
                options.onReset?.(reset);
              }
            },
            onComment: () => alive(),
          });
          const decoder = new TextDecoder();
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
            alive();
            parser.feed(decoder.decode(chunk, { stream: true }));
          }
          throw new Error("the stream ended");
        } catch (error) {
          if (controller.signal.aborted) break;
          options.onError?.(error as Error, url);
          failures++;
          node++;
          const delay = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 10));
          await sleep(delay / 2 + Math.random() * (delay / 2), controller.signal);
        } finally {
          clearTimeout(silence);
          controller.signal.removeEventListener("abort", abort);
        }
      }
    };
    void run();
    return {
      get revision() {
        return state.revision;
      },
      close: () => {
        controller.abort();
        this.watches.delete(controller);
      },
    };
  }

  /** The last-known-good value of a key, without asking any node. */
  cached(key: string): ConfigValue | undefined {
    const entry = this.cache.get(key);
    return entry
      ? { key, value: entry.value, version: entry.version, revision: entry.revision, stale: true }
      : undefined;
  }

  close(): void {
    for (const controller of this.watches) controller.abort();
    this.watches.clear();
    this.cache.close();
  }
}

function pick(entry: ConfigEntry): Omit<ConfigValue, "stale"> {
  return { key: entry.key, value: entry.value, version: entry.version, revision: entry.revision };
}
