import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { contextForServer, loadConfig, type SavedContext, saveConfig } from "./config-store.js";
import { ApiClient } from "./http/client.js";
import { colorEnabled, makePalette, type Palette } from "./output/palette.js";

/** The global flags every command takes (DESIGN.md: CLI). */
export interface GlobalOptions {
  server?: string;
  token?: string;
  output?: "text" | "json";
  color?: boolean;
  verbose?: boolean;
  dir?: string;
}

/** Everything a command touches outside itself; tests build one with captured streams. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdoutIsTTY: boolean;
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
  now(): Date;
  /** Ask a yes/no question on the terminal. */
  confirm(question: string): Promise<boolean>;
  /** Ask for a line on the terminal; `secret` does not echo it (passwords). */
  ask?(question: string, secret: boolean): Promise<string>;
  /** All of standard input (`--password-stdin`). */
  readStdin?(): Promise<string>;
}

export interface Context {
  io: Io;
  json: boolean;
  color: boolean;
  palette: Palette;
  verbose: boolean;
  globals: GlobalOptions;
  /** An API client for the resolved server (flag, env, target's server, default). */
  client(targetServer?: string): ApiClient;
  log(line: string): void;
  warn(line: string): void;
  /** Close every HTTP pool this context opened, so the process can exit. */
  close(): Promise<void>;
}

export const DEFAULT_SERVER = "http://127.0.0.1:7070";

/** --server, CFG_SERVER, the target's server, the current context's server, the default. */
export function resolveServer(globals: GlobalOptions, env: NodeJS.ProcessEnv, targetServer?: string): string {
  const current = () => {
    const config = loadConfig(env);
    return config.current ? config.contexts[config.current]?.server : undefined;
  };
  return globals.server ?? env.CFG_SERVER ?? targetServer ?? current() ?? DEFAULT_SERVER;
}

/** The credentials file `cfg` reads: `$XDG_CONFIG_HOME/cfg/credentials.json` (mode 0600). */
export function credentialsPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "cfg", "credentials.json");
}

/**
 * Token for a server: --token, CFG_TOKEN, the session of a context logged in to that server
 * (refreshed when its access token has expired), then the legacy credentials file.
 */
export async function resolveToken(
  globals: GlobalOptions,
  env: NodeJS.ProcessEnv,
  server: string,
): Promise<string | undefined> {
  if (globals.token) return globals.token;
  if (env.CFG_TOKEN) return env.CFG_TOKEN;
  const config = loadConfig(env);
  const found = contextForServer(config, server);
  if (found?.[1].accessToken) {
    const [name, saved] = found;
    const expiresAt = saved.expiresAt ? Date.parse(saved.expiresAt) : Number.POSITIVE_INFINITY;
    if (expiresAt - 30_000 > Date.now() || !saved.refreshToken) return saved.accessToken;
    const refreshed = await refreshSession(saved);
    if (refreshed) {
      config.contexts[name] = refreshed;
      saveConfig(env, config);
      return refreshed.accessToken;
    }
    return saved.accessToken;
  }
  try {
    const file = JSON.parse(readFileSync(credentialsPath(env), "utf8")) as {
      servers?: Record<string, { token?: string }>;
    };
    return file.servers?.[server.replace(/\/+$/, "")]?.token;
  } catch {
    return undefined;
  }
}

/** Trade a context's refresh token for a new session; undefined when the server refuses. */
async function refreshSession(saved: SavedContext): Promise<SavedContext | undefined> {
  try {
    const response = await fetch(`${saved.server}/v1/auth/refresh`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken: saved.refreshToken }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { accessToken: string; refreshToken: string; expiresIn: number };
    return {
      ...saved,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      expiresAt: new Date(Date.now() + body.expiresIn * 1000).toISOString(),
    };
  } catch {
    return undefined;
  }
}

export function makeContext(globals: GlobalOptions, io: Io): Context {
  const json = globals.output === "json";
  const color = !json && colorEnabled(io.stdoutIsTTY, io.env, globals.color);
  const verbose = globals.verbose === true;
  const clients = new Map<string, ApiClient>();
  const context: Context = {
    io,
    json,
    color,
    palette: makePalette(color),
    verbose,
    globals,
    client(targetServer) {
      const server = resolveServer(globals, io.env, targetServer);
      let client = clients.get(server);
      if (!client) {
        client = new ApiClient({
          server,
          token: () => resolveToken(globals, io.env, server),
          verbose: verbose ? (line) => io.err(`${line}\n`) : undefined,
        });
        clients.set(server, client);
      }
      return client;
    },
    log: (line) => io.err(`${line}\n`),
    warn: (line) => io.err(`${color ? makePalette(true).yellow("warning:") : "warning:"} ${line}\n`),
    async close() {
      await Promise.all([...clients.values()].map((client) => client.close()));
    },
  };
  return context;
}
