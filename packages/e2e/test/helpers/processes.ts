import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export const ROOT = resolve(import.meta.dirname, "../../../..");
export const CFG_BIN = join(ROOT, "packages/cli/bin/cfg.js");
export const CFGD_BIN = join(ROOT, "packages/daemon/bin/cfgd.js");

/** The first port of the kernel's ephemeral range (ports that listen(0) and outgoing connections get). */
function ephemeralStart(): number {
  try {
    return (
      Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768
    );
  } catch {
    return 32768;
  }
}

/** Whether `port` can be listened on at 127.0.0.1 now. */
function canListen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once("error", () => done(false));
    server.listen(port, "127.0.0.1", () => server.close(() => done(true)));
  });
}

/**
 * A free loopback port for a process a test starts, which binds it a moment later. It is picked
 * at random below the kernel's ephemeral range, where no listen(0) (the link proxies of a test
 * cluster, servers of tests running alongside) and no outgoing connection can be given it in
 * that moment: a port the kernel picked and this released could be.
 */
export async function freePort(): Promise<number> {
  const below = Math.max(Math.min(ephemeralStart(), 65536), 11_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (below - 10_000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between 10000 and ${below - 1} in 100 tries`);
}

export interface Daemon {
  url: string;
  token: string;
  dataDir: string;
  process: ChildProcess;
  log: () => string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Kill every process a test file started (call in afterAll). */
export function killAll(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  running.clear();
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once("exit", (code) => done(code)));
}

/** Start a real cfgd on a free port and wait (bounded) until it is ready. */
export async function startDaemon(
  dataDir = mkdtempSync(join(tmpdir(), "cfgd-e2e-")),
  options: { env?: NodeJS.ProcessEnv; args?: string[] } = {},
): Promise<Daemon> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [CFGD_BIN, "--listen", `127.0.0.1:${port}`, "--data-dir", dataDir, ...(options.args ?? [])],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", ...options.env } },
  );
  running.add(child);
  let log = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    log += chunk.toString();
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`cfgd exited with ${child.exitCode} while starting:\n${log}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`cfgd did not become ready within 20 s:\n${log}`);
    }
    await sleep(50);
  }
  const token = readFileSync(join(dataDir, "admin-token"), "utf8").trim();
  return {
    url,
    token,
    dataDir,
    process: child,
    log: () => log,
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
      running.delete(child);
    },
    async stop() {
      child.kill("SIGTERM");
      const code = await exited(child);
      running.delete(child);
      return code;
    },
  };
}

export interface CfgResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the real `cfg` binary without a terminal, as CI would. */
export function cfg(
  args: string[],
  options: { cwd: string; daemon?: Daemon; env?: NodeJS.ProcessEnv },
): Promise<CfgResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", GITHUB_ACTIONS: "", ...options.env };
  if (options.daemon) {
    env.CFG_SERVER = options.daemon.url;
    env.CFG_TOKEN = options.daemon.token;
  }
  return new Promise((done) => {
    execFile(
      process.execPath,
      [CFG_BIN, ...args],
      { cwd: options.cwd, env, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Call a node's HTTP API directly with a bearer token (bounded by a 15 s timeout). */
export async function callApi<T>(
  node: { url: string; token: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${node.token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Call a daemon's HTTP API with its admin token. */
export function api<T>(daemon: Daemon, method: string, path: string, body?: unknown) {
  return callApi<T>(daemon, method, path, body);
}
