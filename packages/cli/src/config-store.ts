/**
 * The CLI's own settings: named contexts (a server and the session logged in to it), like
 * kubectl's contexts, in `$CFG_CONFIG_DIR/config.json` (default `~/.config/cfguardian`), written
 * with mode 0600 through a temp file and a rename.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface SavedContext {
  server: string;
  email?: string;
  accessToken?: string;
  refreshToken?: string;
  /** ISO time the access token expires. */
  expiresAt?: string;
}

export interface CliConfig {
  current?: string;
  contexts: Record<string, SavedContext>;
}

export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.CFG_CONFIG_DIR) return env.CFG_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "cfguardian");
}

export function loadConfig(env: NodeJS.ProcessEnv): CliConfig {
  try {
    const parsed = JSON.parse(
      readFileSync(join(configDir(env), "config.json"), "utf8"),
    ) as Partial<CliConfig>;
    return { ...(parsed.current ? { current: parsed.current } : {}), contexts: parsed.contexts ?? {} };
  } catch {
    return { contexts: {} };
  }
}

export function saveConfig(env: NodeJS.ProcessEnv, config: CliConfig): void {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, "config.json");
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, file);
}

/** A context name for a server: its host and port. */
export function contextNameFor(server: string): string {
  try {
    return new URL(server).host;
  } catch {
    return server;
  }
}

/** The saved context for a server: the current one if it points there, else the first that does. */
export function contextForServer(config: CliConfig, server: string): [string, SavedContext] | undefined {
  const normalized = server.replace(/\/+$/, "");
  const current = config.current ? config.contexts[config.current] : undefined;
  if (config.current && current?.server === normalized) return [config.current, current];
  return Object.entries(config.contexts).find(([, c]) => c.server === normalized);
}
