/**
 * Identity and access with the real cfgd and cfg binaries: login, roles, API keys, tokens,
 * lockout, bad input, and a revoked API key refused at once on every node of a cluster.
 */

import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster } from "./helpers/cluster.js";
import {
  CFG_BIN,
  CFGD_BIN,
  type CfgResult,
  cfg,
  type Daemon,
  killAll,
  startDaemon,
} from "./helpers/processes.js";
import { hasTmux, TmuxSession } from "./helpers/tmux.js";

const ROOT_EMAIL = "root@example.com";
const ROOT_PASSWORD = "root password for e2e";
const PASSWORD = "a good long password";

let daemon: Daemon;
let cwd: string;
let cluster: TestCluster | undefined;
beforeAll(async () => {
  daemon = await startDaemon(undefined, {
    env: { CFGD_BOOTSTRAP_ADMIN_EMAIL: ROOT_EMAIL, CFGD_BOOTSTRAP_ADMIN_PASSWORD: ROOT_PASSWORD },
    // This file logs in far more often than a person would; the limit has its own tests.
    // Debug level: every request is logged, so the check that no secret is logged sees them all.
    args: ["--login-rate-limit", "0", "--log-level", "debug"],
  });
  cwd = mkdtempSync(join(tmpdir(), "cfg-identity-"));
});
afterAll(async () => {
  await cluster?.close();
  killAll();
});

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

/** cfg as a user of its own config directory (no CFG_TOKEN). */
function cfgAs(configDir: string, args: string[], stdin?: string): Promise<CfgResult> {
  const env = { CFG_CONFIG_DIR: configDir, CFG_SERVER: daemon.url, CFG_TOKEN: "" };
  if (stdin === undefined) return cfg(args, { cwd, env });
  return cfgWithStdin(args, env, stdin);
}

async function cfgWithStdin(args: string[], env: NodeJS.ProcessEnv, stdin: string): Promise<CfgResult> {
  const { spawn } = await import("node:child_process");
  const { CFG_BIN } = await import("./helpers/processes.js");
  return new Promise((done) => {
    const child = spawn(process.execPath, [CFG_BIN, ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) => done({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function login(email: string, password: string): Promise<string> {
  const result = await api<{ accessToken: string }>("POST", "/v1/auth/login", null, { email, password });
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body.accessToken;
}

describe("users, roles and sessions (real cfgd, real cfg)", () => {
  let root: string;
  const dirs = { root: "", viewer: "", editor: "" };

  beforeAll(async () => {
    for (const name of Object.keys(dirs) as (keyof typeof dirs)[])
      dirs[name] = mkdtempSync(join(tmpdir(), `cfg-${name}-`));
    const rootLogin = await cfgAs(
      dirs.root,
      ["login", "--email", ROOT_EMAIL, "--password-stdin"],
      `${ROOT_PASSWORD}\n`,
    );
    expect(rootLogin.code, rootLogin.stderr).toBe(0);
    root = await login(ROOT_EMAIL, ROOT_PASSWORD);
    for (const project of ["shop", "other"]) {
      expect((await cfgAs(dirs.root, ["project", "create", project])).code).toBe(0);
    }
    for (const role of ["viewer", "editor"]) {
      const created = await cfgAs(
        dirs.root,
        ["user", "create", `${role}@example.com`, "--password-stdin"],
        `${PASSWORD}\n`,
      );
      expect(created.code, created.stderr).toBe(0);
      expect(
        (await cfgAs(dirs.root, ["member", "set", `${role}@example.com`, role, "--project", "shop"])).code,
      ).toBe(0);
      const loggedIn = await cfgAs(
        dirs[role as "viewer"],
        ["login", "--email", `${role}@example.com`, "--password-stdin"],
        `${PASSWORD}\n`,
      );
      expect(loggedIn.code, loggedIn.stderr).toBe(0);
    }
  });

  it("a viewer can read but cannot push (403, exit 4); an editor can push", async () => {
    const write = ["project", "delete", "shop", "--yes"];
    const viewerDelete = await cfgAs(dirs.viewer, write);
    expect(viewerDelete.code).toBe(4);
    expect(viewerDelete.stderr).toContain("needs the admin role");
    const viewer = await login("viewer@example.com", PASSWORD);
    const push = { baseRevision: 0, changes: [{ op: "put", key: "a", value: { n: 1 } }] };
    expect((await api("POST", "/v1/projects/shop/pushes", viewer, push)).status).toBe(403);
    expect((await api("GET", "/v1/projects/shop/configs", viewer)).status).toBe(200);
    const editor = await login("editor@example.com", PASSWORD);
    expect((await api("POST", "/v1/projects/shop/pushes", editor, push)).status).toBe(200);
    const history = await cfgAs(dirs.viewer, ["history", "--project", "shop", "--output", "json"]);
    expect(JSON.parse(history.stdout).items[0]).toMatchObject({ revision: 1, actor: "editor@example.com" });
    // A viewer sees only their projects.
    const list = JSON.parse((await cfgAs(dirs.viewer, ["project", "list", "--output", "json"])).stdout);
    expect(list.items.map((p: { name: string }) => p.name)).toEqual(["shop"]);
  });

  it("an editor pushes configs under the schemas but cannot change the schema set", async () => {
    const editor = await login("editor@example.com", PASSWORD);
    const binding = { name: "svc", match: "svc/*", schema: { type: "object" } };
    const revision = async () =>
      (await api<{ revision: number }>("GET", "/v1/projects/shop", root)).body.revision;
    const push = (token: string, schemas: unknown[], value: number) =>
      revision().then((base) =>
        api("POST", "/v1/projects/shop/pushes", token, {
          baseRevision: base,
          changes: [{ op: "put", key: "svc/a", value: { v: value } }],
          schemas,
        }),
      );
    const start = await revision();
    const refused = await push(editor, [binding], 1);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: "forbidden" });
    expect((await push(root, [binding], 1)).status).toBe(200);
    // The same schema set: an editor's push goes through.
    expect((await push(editor, [binding], 2)).status).toBe(200);
    expect((await push(editor, [], 3)).status).toBe(403);
    // Rolling the whole project back to before the schema would drop it: admins only; keys are fine.
    const rollback = (token: string, extra: Record<string, unknown> = {}) =>
      api("POST", "/v1/projects/shop/rollback", token, { toRevision: start, ...extra });
    expect((await rollback(editor)).status).toBe(403);
    expect((await rollback(editor, { keys: ["a"] })).status).toBe(200);
  });

  it("an editor cannot add members", async () => {
    const result = await cfgAs(dirs.editor, [
      "member",
      "set",
      "viewer@example.com",
      "admin",
      "--project",
      "shop",
    ]);
    expect(result.code).toBe(4);
    const editor = await login("editor@example.com", PASSWORD);
    const direct = await api("PUT", "/v1/projects/shop/members/viewer@example.com", editor, {
      role: "admin",
    });
    expect(direct.status).toBe(403);
    expect(
      (await api<{ items: { role: string }[] }>("GET", "/v1/projects/shop/members", root)).body.items
        .map((m) => m.role)
        .sort(),
    ).toEqual(["editor", "viewer"]);
  });

  it("an API key reads its project only, never writes, and is refused once revoked", async () => {
    const created = await cfgAs(dirs.root, [
      "apikey",
      "create",
      "web",
      "--project",
      "shop",
      "--output",
      "json",
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    expect(key).toMatch(/^cfgk_/);
    expect((await api("GET", "/v1/read/shop/a", key)).status).toBe(200);
    expect((await api("GET", "/v1/read/other/a", key)).status).toBe(403);
    expect((await api("GET", "/v1/projects/other/configs", key)).status).toBe(403);
    expect((await api("PUT", "/v1/projects/shop/configs/a", key, { n: 2 })).status).toBe(403);
    expect((await api("GET", "/v1/projects", key)).status).toBe(403);
    // Never shown again, never stored in clear.
    const listed = await cfgAs(dirs.root, ["apikey", "list", "--project", "shop", "--output", "json"]);
    expect(listed.stdout).not.toContain(key);
    expect((await cfgAs(dirs.root, ["apikey", "revoke", id, "--project", "shop"])).code).toBe(0);
    expect((await api("GET", "/v1/read/shop/a", key)).status).toBe(401);
  });

  it("CI tokens work as CFG_TOKEN without a login, and stop when revoked", async () => {
    const created = await cfgAs(dirs.editor, ["token", "create", "ci", "--output", "json"]);
    expect(created.code, created.stderr).toBe(0);
    const { token, id } = JSON.parse(created.stdout) as { token: string; id: string };
    const emptyDir = mkdtempSync(join(tmpdir(), "cfg-ci-"));
    const asCi = await cfg(["get", "a", "--project", "shop", "--output", "json"], {
      cwd,
      env: { CFG_CONFIG_DIR: emptyDir, CFG_SERVER: daemon.url, CFG_TOKEN: token },
    });
    expect(asCi.code, asCi.stderr).toBe(0);
    expect((await cfgAs(dirs.editor, ["token", "revoke", id])).code).toBe(0);
    expect((await api("GET", "/v1/projects/shop", token)).status).toBe(401);
  });

  it("refuses expired, forged and malformed tokens with 401", async () => {
    const access = await login("viewer@example.com", PASSWORD);
    const [header, payload] = access.split(".") as [string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const kid = JSON.parse(Buffer.from(header, "base64url").toString()).kid;
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const signed = `${b64({ alg: "HS256", kid, typ: "JWT" })}.${b64(claims)}`;
    const forged = `${signed}.${createHmac("sha256", Buffer.alloc(32, 7)).update(signed).digest("base64url")}`;
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid })).toString("base64url")}.${payload}.`;
    const expired = `${header}.${Buffer.from(JSON.stringify({ ...claims, exp: 1 })).toString("base64url")}.${access.split(".")[2]}`;
    for (const token of [
      forged,
      none,
      expired,
      "garbage",
      "cfgk_nope",
      "cfgc_nope",
      "a.b.c",
      "x".repeat(5000),
    ]) {
      const result = await api("GET", "/v1/projects/shop", token);
      expect(result.status, token.slice(0, 40)).toBe(401);
      expect(result.body).toMatchObject({ code: "unauthorized" });
    }
    expect(
      (await api("GET", "/v1/projects/shop", null, undefined, { authorization: "Basic abc" })).status,
    ).toBe(401);
  });

  it("locks an account after wrong passwords, and says when to retry", async () => {
    for (let i = 0; i < 5; i++) {
      const wrong = await api("POST", "/v1/auth/login", null, {
        email: "viewer@example.com",
        password: "wrong password!!",
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ code: "unauthorized", detail: "wrong email or password" });
    }
    const locked = await api("POST", "/v1/auth/login", null, {
      email: "viewer@example.com",
      password: PASSWORD,
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    // Unknown users get the same answer as wrong passwords.
    const unknown = await api("POST", "/v1/auth/login", null, {
      email: "ghost@example.com",
      password: PASSWORD,
    });
    expect(unknown.body).toMatchObject({ code: "unauthorized", detail: "wrong email or password" });
  });

  it("SQL-looking names and oversized bodies get a clear 4xx and change nothing", async () => {
    const before = (await api<{ items: unknown[] }>("GET", "/v1/users", root)).body.items.length;
    const evil = ["x'); DROP TABLE users; --", "shop' OR '1'='1", 'a"; DELETE FROM members; --'];
    for (const name of evil) {
      const enc = encodeURIComponent(name);
      expect((await api("POST", "/v1/projects", root, { name })).status).toBe(400);
      expect((await api("POST", "/v1/users", root, { email: name, password: PASSWORD })).status).toBe(400);
      expect((await api("PUT", `/v1/projects/shop/members/${enc}`, root, { role: "viewer" })).status).toBe(
        404,
      );
      expect(
        (await api("PUT", "/v1/projects/shop/members/viewer@example.com", root, { role: name })).status,
      ).toBe(400);
      expect((await api("POST", "/v1/projects/shop/api-keys", root, { name })).status).toBe(400);
      expect((await api("POST", "/v1/tokens", root, { name })).status).toBe(400);
      expect((await api("GET", `/v1/projects/${enc}`, root)).status).toBeGreaterThanOrEqual(400);
      const loginResult = await api("POST", "/v1/auth/login", null, { email: name, password: name });
      expect([401, 429]).toContain(loginResult.status);
    }
    expect((await api<{ items: unknown[] }>("GET", "/v1/users", root)).body.items.length).toBe(before);
    const big = JSON.stringify({ email: "big@example.com", password: "p".repeat(70 * 1024 * 1024) });
    const tooBig = await api("POST", "/v1/users", root, big);
    expect(tooBig.status).toBe(413);
    const longPassword = await api("POST", "/v1/users", root, {
      email: "long@example.com",
      password: "p".repeat(5000),
    });
    expect(longPassword.status).toBe(400);
    expect((await api("POST", "/v1/auth/login", null, "{not json")).status).toBe(400);
    expect((await api<{ items: unknown[] }>("GET", "/v1/users", root)).body.items.length).toBe(before);
  });

  it("records every mutation in the audit log, without secrets", async () => {
    // A password typed into the email field must not land in the audit log.
    await api("POST", "/v1/auth/login", null, { email: "typed my secret pw", password: "x" });
    const audit = await cfgAs(dirs.root, ["audit", "--limit", "1000", "--output", "json"]);
    expect(audit.code, audit.stderr).toBe(0);
    const records = JSON.parse(audit.stdout).items as { action: string; result: string; actor: string }[];
    const actions = new Set(records.map((r) => r.action));
    for (const action of [
      "auth.login",
      "project.create",
      "user.create",
      "member.set",
      "apikey.create",
      "apikey.revoke",
      "push",
      "token.create",
    ]) {
      expect(actions, action).toContain(action);
    }
    expect(
      records.some((r) => r.action === "push" && r.result === "refused" && r.actor === "viewer@example.com"),
    ).toBe(true);
    // An applied push is recorded (its record rides in the push's own log entry).
    expect(records.some((r) => r.action === "push" && r.result === "ok")).toBe(true);
    for (const secret of [PASSWORD, ROOT_PASSWORD, "cfgk_", "cfgc_", "cfgr_", "eyJ", "typed my secret pw"])
      expect(audit.stdout).not.toContain(secret);
    const log = daemon.log();
    expect(log).toContain('"msg":"request"'); // debug lines are there to be checked
    expect(log).not.toContain(ROOT_PASSWORD);
    expect(log).not.toContain(PASSWORD);
    // No credential of any kind: access or refresh tokens (JWTs), API keys, CI tokens.
    expect(log).not.toMatch(/eyJ[\w-]{8,}\.eyJ/);
    expect(log).not.toMatch(/cfg[kcr]_[\w-]{12,}/);
  });

  it("keeps contexts per server, switches between them, and refreshes an expired session by itself", async () => {
    const { readFileSync, writeFileSync, statSync } = await import("node:fs");
    const file = join(dirs.editor, "config.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = await cfgAs(
      dirs.editor,
      ["login", "--email", "editor@example.com", "--password-stdin", "--context", "second"],
      `${PASSWORD}\n`,
    );
    expect(second.code, second.stderr).toBe(0);
    const list = JSON.parse((await cfgAs(dirs.editor, ["context", "list", "--output", "json"])).stdout);
    expect(list.current).toBe("second");
    expect(list.items.map((i: { name: string }) => i.name).sort()).toEqual(
      [new URL(daemon.url).host, "second"].sort(),
    );
    expect((await cfgAs(dirs.editor, ["context", "use", "nope"])).code).toBe(1);
    expect((await cfgAs(dirs.editor, ["context", "use", new URL(daemon.url).host])).code).toBe(0);
    // An access token past its time: cfg trades the refresh token for a new session and saves it.
    const config = JSON.parse(readFileSync(file, "utf8"));
    const name = config.current as string;
    const stale = config.contexts[name];
    config.contexts[name] = { ...stale, expiresAt: new Date(0).toISOString() };
    writeFileSync(file, JSON.stringify(config));
    const read = await cfgAs(dirs.editor, ["get", "a", "--project", "shop"]);
    expect(read.code, read.stderr).toBe(0);
    const after = JSON.parse(readFileSync(file, "utf8")).contexts[name];
    expect(after.refreshToken).not.toBe(stale.refreshToken);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now());
    // The spent refresh token is refused.
    expect((await api("POST", "/v1/auth/refresh", null, { refreshToken: stale.refreshToken })).status).toBe(
      401,
    );
  });

  it.skipIf(!hasTmux)(
    "cfg login asks for the email and a password it does not echo, in a real terminal",
    async () => {
      const session = `cfg-login-${process.pid}`;
      const dir = mkdtempSync(join(tmpdir(), "cfg-tty-"));
      const command = [
        `CFG_CONFIG_DIR=${dir} CFG_SERVER=${daemon.url} CFG_TOKEN=`,
        process.execPath,
        CFG_BIN,
        "login; echo EXITED:$?; sleep 30",
      ].join(" ");
      const tmux = new TmuxSession(session, command, 120, 20);
      try {
        await tmux.waitFor("the email prompt", (t) => t.includes("Email:"));
        tmux.send("editor@example.com", "Enter");
        await tmux.waitFor("the password prompt", (t) => t.includes("Password:"));
        tmux.send(PASSWORD, "Enter");
        const done = await tmux.waitFor("the exit", (t) => /EXITED:\d/.test(t));
        expect(done).toContain("EXITED:0");
        expect(done).toContain("Logged in to");
        expect(done).not.toContain(PASSWORD);
      } finally {
        tmux.kill();
      }
    },
    30_000,
  );

  it("cfg user passwd changes your password (current one first) and ends your sessions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-passwd-"));
    await cfgAs(dirs.root, ["user", "create", "pw@example.com", "--password-stdin"], `${PASSWORD}\n`);
    expect(
      (await cfgAs(dir, ["login", "--email", "pw@example.com", "--password-stdin"], `${PASSWORD}\n`)).code,
    ).toBe(0);
    const wrong = await cfgAs(
      dir,
      ["user", "passwd", "--password-stdin"],
      "not my password\nanother new password\n",
    );
    expect(wrong.code).toBe(4);
    const changed = await cfgAs(
      dir,
      ["user", "passwd", "--password-stdin"],
      `${PASSWORD}\nanother new password\n`,
    );
    expect(changed.code, changed.stderr).toBe(0);
    expect((await cfgAs(dir, ["project", "list"])).code).toBe(4);
    expect(
      (await api("POST", "/v1/auth/login", null, { email: "pw@example.com", password: PASSWORD })).status,
    ).toBe(401);
    // A cluster admin sets it for them.
    const user = (
      await api<{ items: { id: string; email: string }[] }>("GET", "/v1/users", root)
    ).body.items.find((u) => u.email === "pw@example.com")!;
    const reset = await cfgAs(
      dirs.root,
      ["user", "passwd", user.id, "--password-stdin"],
      "a reset password 1\n",
    );
    expect(reset.code, reset.stderr).toBe(0);
    expect(
      (await api("POST", "/v1/auth/login", null, { email: "pw@example.com", password: "a reset password 1" }))
        .status,
    ).toBe(200);
  });

  it("logout ends the session at once", async () => {
    const before = await cfgAs(dirs.viewer, ["get", "a", "--project", "shop"]);
    expect(before.code, before.stderr).toBe(0);
    expect((await cfgAs(dirs.viewer, ["logout"])).code).toBe(0);
    const after = await cfgAs(dirs.viewer, ["get", "a", "--project", "shop"]);
    expect(after.code).toBe(4);
    expect(after.stderr).toContain("cfg login");
  });
});

describe("first start without a configured admin", () => {
  it("prints a one-time bootstrap code that cfg login redeems once; there is no default password", async () => {
    const fresh = await startDaemon(undefined, { args: ["--login-rate-limit", "0"] });
    const code = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = /--bootstrap-code ([A-Za-z0-9_-]+)/.exec(fresh.log())?.[1];
        if (found) return found;
        await sleep(50);
      }
      throw new Error(`no bootstrap code in the log:\n${fresh.log()}`);
    })();
    for (const password of ["admin", "password", "changeme", ""]) {
      const r = await fetch(`${fresh.url}/v1/auth/login`, {
        method: "POST",
        body: JSON.stringify({ email: "admin@example.com", password }),
      });
      expect(r.status).toBe(401);
    }
    const dir = mkdtempSync(join(tmpdir(), "cfg-bootstrap-"));
    const env = { CFG_CONFIG_DIR: dir, CFG_SERVER: fresh.url, CFG_TOKEN: "" };
    const args = ["login", "--email", "first@example.com", "--password-stdin", "--bootstrap-code", code];
    const first = await cfgWithStdin(args, env, `${PASSWORD}\n`);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain("Created the first cluster admin");
    const again = await cfgWithStdin(
      ["login", "--email", "second@example.com", "--password-stdin", "--bootstrap-code", code],
      env,
      `${PASSWORD}\n`,
    );
    expect(again.code).toBe(4);
    const users = await cfg(["user", "list", "--output", "json"], { cwd, env });
    expect(JSON.parse(users.stdout).items.map((u: { email: string }) => u.email)).toEqual([
      "first@example.com",
    ]);
    await fresh.stop();
  });
});

describe("a revoked API key in a 3-node cluster", () => {
  it("is refused at once on every node", async () => {
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      env: { CFGD_BOOTSTRAP_ADMIN_EMAIL: ROOT_EMAIL, CFGD_BOOTSTRAP_ADMIN_PASSWORD: ROOT_PASSWORD },
    });
    const c = cluster;
    const leader = await c.leader();
    await c.until("project", async () =>
      (await c.call(leader, "POST", "/v1/projects", { name: "shop" })).status === 201 ? true : undefined,
    );
    const created = await c.call<{ key: string; id: string }>(leader, "POST", "/v1/projects/shop/api-keys", {
      name: "app",
    });
    expect(created.status).toBe(201);
    const read = (url: string, key = created.body.key) =>
      fetch(`${url}/v1/read/shop/missing`, { headers: { authorization: `Bearer ${key}` } }).then(
        (r) => r.status,
      );
    for (const m of c.members) {
      await c.until(`key on ${m.id}`, async () => ((await read(m.url)) === 404 ? true : undefined));
    }
    // Revoke through a follower: it is forwarded, committed, and applied everywhere before we ask.
    const follower = c.members.find((m) => m !== leader)!;
    const revoked = await c.call(follower, "DELETE", `/v1/projects/shop/api-keys/${created.body.id}`);
    expect(revoked.status).toBe(200);
    const statuses = await Promise.all(c.members.map((m) => read(m.url)));
    expect(statuses).toEqual([401, 401, 401]);
    // A refused write through a follower is audited once, by the leader it was forwarded to.
    const refused = await fetch(`${follower.url}/v1/projects/shop/configs/x`, {
      method: "PUT",
      headers: { authorization: `Bearer ${created.body.key}` },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    const audit = await c.call<{ items: { action: string; result: string; target: string | null }[] }>(
      leader,
      "GET",
      "/v1/audit?project=shop",
    );
    expect(audit.body.items.filter((r) => r.action === "config.put" && r.result === "refused")).toHaveLength(
      1,
    );
    // A key used only on a follower: the follower has the leader record its last use.
    const other = await c.call<{ key: string; id: string }>(leader, "POST", "/v1/projects/shop/api-keys", {
      name: "follower-only",
    });
    await c.until("a read on the follower", async () =>
      (await read(follower.url, other.body.key)) === 404 ? true : undefined,
    );
    const used = await c.until("last use recorded", async () => {
      const list = await c.call<{ items: { id: string; lastUsedAt: string | null }[] }>(
        leader,
        "GET",
        "/v1/projects/shop/api-keys",
      );
      return list.body.items.find((k) => k.id === other.body.id)?.lastUsedAt ?? undefined;
    });
    expect(Date.parse(used)).toBeGreaterThan(0);
  }, 90_000);
});

describe("a bootstrap admin that could never be created", () => {
  it("stops cfgd at start with the reason, before it writes anything", () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "cfgd-bad-admin-")), "data");
    for (const [env, reason] of [
      [
        { CFGD_BOOTSTRAP_ADMIN_EMAIL: "root@example.com", CFGD_BOOTSTRAP_ADMIN_PASSWORD: "short" },
        /at least 12/,
      ],
      [
        { CFGD_BOOTSTRAP_ADMIN_EMAIL: "not an email", CFGD_BOOTSTRAP_ADMIN_PASSWORD: "long enough password" },
        /name@domain/,
      ],
      [{ CFGD_BOOTSTRAP_ADMIN_EMAIL: "root@example.com" }, /both/],
    ] as const) {
      const run = spawnSync(process.execPath, [CFGD_BIN, "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
        env: { ...process.env, ...env },
        encoding: "utf8",
        timeout: 20_000,
      });
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toMatch(reason);
      expect(existsSync(dataDir)).toBe(false);
    }
  });
});
