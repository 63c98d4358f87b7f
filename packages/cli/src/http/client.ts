import { CfgError, isErrorCode, type Problem } from "@cfguardian/shared";
import type { Dispatcher } from "undici";
import { ApiError } from "../errors.js";

export interface ApiClientOptions {
  server: string;
  /** A token, or a function that finds one (and may refresh a session) before the first request. */
  token: string | undefined | (() => Promise<string | undefined>);
  /** Milliseconds before a request is abandoned. */
  timeoutMs?: number;
  verbose?: (line: string) => void;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Statuses returned as `{status}` instead of thrown (e.g. 304, 404). */
  allow?: number[];
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

/** The HTTP side of `cfg`: one keep-alive pool per server, problem+json mapped to ApiError. */
export class ApiClient {
  readonly server: string;
  private readonly token: ApiClientOptions["token"];
  private dispatcher: Dispatcher | undefined;
  private readonly timeoutMs: number;
  private readonly verbose: ((line: string) => void) | undefined;

  constructor(options: ApiClientOptions) {
    this.server = options.server.replace(/\/+$/, "");
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.verbose = options.verbose;
  }

  /**
   * Called as cfg exits, when everything it waits for is done: a request still on its way (a
   * manifest asked for before the files turned out to have problems) is dropped, not waited for.
   */
  async close(): Promise<void> {
    await this.dispatcher?.destroy();
  }

  get<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.call<T>("GET", path, options).then((r) => r.body);
  }
  post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    return this.call<T>("POST", path, { ...options, body }).then((r) => r.body);
  }
  delete<T>(path: string, options: RequestOptions = {}): Promise<T> {
    return this.call<T>("DELETE", path, options).then((r) => r.body);
  }

  async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(this.server + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    const token = typeof this.token === "function" ? await this.token() : this.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers["content-type"] = "application/json";
    }
    const started = performance.now();
    // NB: undici is loaded on the first request, so commands that never call the server start fast.
    const { Agent, request } = await import("undici");
    this.dispatcher ??= new Agent({ connections: 16, keepAliveTimeout: 10_000 });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: payload,
        dispatcher: this.dispatcher,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
    } catch (error) {
      throw this.connectionError(error as Error & { code?: string });
    }
    const text = await response.body.text();
    this.verbose?.(
      `${method} ${url.pathname}${url.search} -> ${response.statusCode} (${Math.round(performance.now() - started)} ms)`,
    );
    const status = response.statusCode;
    if (status >= 400 && !(options.allow ?? []).includes(status)) throw toApiError(status, text, url);
    let body: unknown;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        if (status < 300) {
          throw new CfgError(
            "internal",
            `the server at ${this.server} answered ${path} with something that is not JSON`,
          );
        }
      }
    }
    return { status, body: body as T, headers: response.headers };
  }

  private connectionError(error: Error & { code?: string }): CfgError {
    const code = error.code ?? "";
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ECONNRESET") {
      return new CfgError(
        "unavailable",
        `cannot reach cfgd at ${this.server} (${code}). Start one with 'pnpm exec cfgd', or point --server / CFG_SERVER at a running node.`,
      );
    }
    if (code.startsWith("UND_ERR_") && code.includes("TIMEOUT")) {
      return new CfgError(
        "unavailable",
        `cfgd at ${this.server} did not answer within ${this.timeoutMs} ms; the outcome of a write is unknown: check with 'cfg history'.`,
      );
    }
    return new CfgError("unavailable", `request to ${this.server} failed: ${error.message}`);
  }
}

function toApiError(status: number, text: string, url: URL): ApiError {
  let parsed: Partial<Problem> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<Problem>;
  } catch {
    parsed = undefined;
  }
  const code = isErrorCode(parsed?.code) ? parsed.code : fallbackCode(status);
  const detail =
    typeof parsed?.detail === "string" && parsed.detail
      ? parsed.detail
      : `${url.pathname} answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ""}`;
  return new ApiError({
    type: "about:blank",
    title: parsed?.title ?? `HTTP ${status}`,
    ...parsed,
    status,
    code,
    detail,
  } as Problem);
}

function fallbackCode(status: number): Problem["code"] {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 412) return "precondition_failed";
  if (status === 413) return "payload_too_large";
  if (status === 422) return "validation_failed";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "unavailable";
  return "bad_request";
}

/** Path of a project's resource with each key segment encoded. */
export function projectPath(project: string, ...rest: string[]): string {
  const tail = rest.map((part) => part.split("/").map(encodeURIComponent).join("/")).join("/");
  return `/v1/projects/${encodeURIComponent(project)}${tail ? `/${tail}` : ""}`;
}
