import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gateProxy } from "./helpers/gate-proxy.js";
import { api, cfg, type Daemon, killAll, startDaemon } from "./helpers/processes.js";
import { exampleRepo } from "./helpers/repo.js";

interface Revision {
  revision: number;
  kind: string;
  git: { commit?: string; branch?: string; author?: string; message?: string } | null;
  changes: { key: string; op: string; version: number }[];
  rollbackTo: number | null;
}

let daemon: Daemon;

beforeAll(async () => {
  daemon = await startDaemon();
  for (const project of ["shop-staging", "shop-prod"]) {
    const created = await cfg(["project", "create", project], { cwd: daemon.dataDir, daemon });
    expect(created.code, created.stderr).toBe(0);
  }
});
afterAll(killAll);

const prodApi = "configs/prod/services/api.json";

describe("the GitOps loop: real cfg against a real cfgd", () => {
  it("diffs, pushes with git provenance, and reports no differences after", async () => {
    const repo = exampleRepo();
    const before = await cfg(["diff", "--target", "prod", "--exit-code"], { cwd: repo.dir, daemon });
    expect(before.code, before.stderr).toBe(2);
    expect(before.stdout).toContain("+ services/api");
    expect(before.stdout).toContain("Plan: 6 to add, 0 to change, 0 to delete, 4 schema changes.");

    const refused = await cfg(["push", "--target", "prod"], { cwd: repo.dir, daemon });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("needs --yes when not run in a terminal");

    const pushed = await cfg(["push", "--target", "prod", "--yes", "--output", "json"], {
      cwd: repo.dir,
      daemon,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const result = JSON.parse(pushed.stdout) as { revision: number; applied: boolean; changes: unknown[] };
    expect(result).toMatchObject({ revision: 1, applied: true });
    expect(result.changes).toHaveLength(6);

    const after = await cfg(["diff", "--target", "prod", "--exit-code"], { cwd: repo.dir, daemon });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain("No differences");

    const again = await cfg(["push", "--target", "prod", "--yes"], { cwd: repo.dir, daemon });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("No changes. shop-prod is up to date at revision 1.");

    const history = await cfg(["history", "--target", "prod", "--output", "json"], { cwd: repo.dir, daemon });
    const list = JSON.parse(history.stdout) as { items: Revision[] };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]?.git).toMatchObject({
      commit: repo.git("rev-parse", "HEAD"),
      branch: "main",
      author: "Grace Hopper <grace@example.com>",
      message: "Initial configs",
    });
    const text = await cfg(["history", "--target", "prod"], { cwd: repo.dir, daemon });
    expect(text.stdout).toContain(repo.git("rev-parse", "HEAD").slice(0, 8));
  });

  it("shows a structural diff of one change and exits 1 on errors with --exit-code", async () => {
    const repo = exampleRepo();
    repo.editJson(prodApi, (v) => {
      v.replicas = 6;
    });
    const diff = await cfg(["diff", "--target", "prod", "--exit-code"], { cwd: repo.dir, daemon });
    expect(diff.code).toBe(2);
    expect(diff.stdout).toContain("~ services/api");
    expect(diff.stdout).toContain("~ /replicas: 4 -> 6");
    const json = await cfg(["diff", "--target", "prod", "--output", "json"], { cwd: repo.dir, daemon });
    expect(JSON.parse(json.stdout)).toMatchObject({
      project: "shop-prod",
      summary: { add: 0, change: 1, delete: 0 },
      changes: [
        {
          op: "change",
          key: "services/api",
          diff: [{ op: "replace", path: "/replicas", before: 4, after: 6 }],
        },
      ],
    });
    const down = await cfg(["diff", "--target", "prod", "--exit-code"], {
      cwd: repo.dir,
      env: { CFG_SERVER: "http://127.0.0.1:9", CFG_TOKEN: daemon.token },
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot reach cfgd at http://127.0.0.1:9");
    const unauthorized = await cfg(["diff", "--target", "prod"], {
      cwd: repo.dir,
      env: { CFG_SERVER: daemon.url, CFG_TOKEN: "cfgt_wrong" },
    });
    expect(unauthorized.code).toBe(4);
  });

  it("refuses a dirty tree unless --allow-dirty, and supports --dry-run", async () => {
    const repo = exampleRepo();
    repo.editJson(prodApi, (v) => {
      v.logLevel = "warn";
    });
    const dirty = await cfg(["push", "--target", "prod", "--yes"], { cwd: repo.dir, daemon });
    expect(dirty.code).toBe(1);
    expect(dirty.stderr).toContain("uncommitted changes");
    const dry = await cfg(["push", "--target", "prod", "--yes", "--allow-dirty", "--dry-run"], {
      cwd: repo.dir,
      daemon,
    });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("Dry run");
    const live = await api<{ value: { logLevel: string }; version: number }>(
      daemon,
      "GET",
      "/v1/projects/shop-prod/configs/services/api",
    );
    expect(live.body.value.logLevel).toBe("info");
  });

  it("refuses a concurrent push with 409, listing the conflicting keys, and applies nothing", async () => {
    const a = exampleRepo();
    const b = exampleRepo();
    a.editJson(
      prodApi,
      (v) => {
        v.replicas = 8;
      },
      "Scale to 8",
    );
    b.editJson(
      prodApi,
      (v) => {
        v.replicas = 10;
      },
      "Scale to 10",
    );
    // Plan in A against the current revision, then let B win the race through the HTTP API.
    const manifest = await api<{ revision: number }>(daemon, "GET", "/v1/projects/shop-prod/manifest");
    const pushB = await cfg(["push", "--target", "prod", "--yes"], { cwd: b.dir, daemon });
    expect(pushB.code, pushB.stderr).toBe(0);
    const conflict = await api<{ code: string; conflicts: { key: string }[] }>(
      daemon,
      "POST",
      "/v1/projects/shop-prod/pushes",
      {
        baseRevision: manifest.body.revision,
        changes: [{ op: "put", key: "services/api", value: JSON.parse(a.read(prodApi)) }],
      },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe("conflict");
    expect(conflict.body.conflicts.map((c) => c.key)).toEqual(["services/api"]);
    const live = await api<{ value: { replicas: number } }>(
      daemon,
      "GET",
      "/v1/projects/shop-prod/configs/services/api",
    );
    expect(live.body.value.replicas).toBe(10);
  });

  it("cfg push exits 3 and names the keys when another push lands between its plan and its push", async () => {
    const a = exampleRepo();
    const b = exampleRepo();
    a.editJson(
      prodApi,
      (v) => {
        v.replicas = 20;
      },
      "Scale to 20",
    );
    b.editJson(
      prodApi,
      (v) => {
        v.replicas = 21;
      },
      "Scale to 21",
    );
    const proxy = await gateProxy(
      daemon.url,
      (method, path) => method === "POST" && path.endsWith("/pushes"),
    );
    try {
      // A plans through the proxy, which holds its push; B pushes directly; then A's push goes on.
      const pushA = cfg(["push", "--target", "prod", "--yes"], {
        cwd: a.dir,
        env: { CFG_SERVER: proxy.url, CFG_TOKEN: daemon.token },
      });
      await proxy.held;
      const pushB = await cfg(["push", "--target", "prod", "--yes"], { cwd: b.dir, daemon });
      expect(pushB.code, pushB.stderr).toBe(0);
      proxy.open();
      const result = await pushA;
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/services\/api: changed at revision \d+/);
      expect(result.stderr).toContain("Run 'cfg diff'");
    } finally {
      await proxy.close();
    }
    const live = await api<{ value: { replicas: number } }>(
      daemon,
      "GET",
      "/v1/projects/shop-prod/configs/services/api",
    );
    expect(live.body.value.replicas).toBe(21);
  });

  it("refuses a schema violation listing every error, and lands a schema with the config that needs it", async () => {
    const repo = exampleRepo();
    const before = await api<{ revision: number }>(daemon, "GET", "/v1/projects/shop-staging/manifest");
    // Bypass local validation to see the server's answer: the server checks too.
    const refused = await api<{ code: string; errors: { key: string; pointer: string; message: string }[] }>(
      daemon,
      "POST",
      "/v1/projects/shop-staging/pushes",
      {
        baseRevision: before.body.revision,
        changes: [
          { op: "put", key: "services/api", value: { port: "8080" } },
          {
            op: "put",
            key: "services/web",
            value: {
              image: "x",
              port: 70000,
              replicas: 1,
              logLevel: "loud",
              resources: { cpu: 1, memoryMiB: 64 },
            },
          },
        ],
        schemas: [
          {
            name: "service",
            match: "services/*",
            schema: JSON.parse(repo.read("schemas/service.schema.json")),
          },
        ],
      },
    );
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe("validation_failed");
    const pointers = refused.body.errors.map((e) => `${e.key}${e.pointer}`);
    expect(pointers).toEqual(
      expect.arrayContaining([
        "services/api/port",
        "services/api/image",
        "services/web/port",
        "services/web/logLevel",
      ]),
    );
    const after = await api<{ revision: number }>(daemon, "GET", "/v1/projects/shop-staging/manifest");
    expect(after.body.revision).toBe(before.body.revision);

    // A new schema and a new config that satisfies it travel in one push.
    repo.write(
      "schemas/cache.schema.json",
      JSON.stringify({
        type: "object",
        required: ["ttlSeconds"],
        properties: { ttlSeconds: { type: "integer" } },
      }),
    );
    repo.editJson("cfg.json", (v) => {
      (v.schemas as unknown[]).push({ name: "cache", match: "caches/*", file: "schemas/cache.schema.json" });
    });
    repo.write("configs/staging/caches/sessions.json", '{ "ttlSeconds": 3600 }\n');
    repo.commitAll("Add a session cache and its schema");
    const pushed = await cfg(["push", "--target", "staging", "--yes", "--output", "json"], {
      cwd: repo.dir,
      daemon,
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ applied: true, schemasChanged: true });
    const schemas = await api<{ items: { name: string }[] }>(
      daemon,
      "GET",
      "/v1/projects/shop-staging/schemas",
    );
    expect(schemas.body.items.map((s) => s.name)).toContain("cache");
  });

  it("rolls back to an earlier revision as a new revision, and reads old values", async () => {
    const repo = exampleRepo();
    const start = await api<{ revision: number }>(daemon, "GET", "/v1/projects/shop-prod/manifest");
    const before = await api<{ value: { replicas: number } }>(
      daemon,
      "GET",
      "/v1/projects/shop-prod/configs/services/api",
    );
    const replicas = before.body.value.replicas;
    repo.editJson(
      prodApi,
      (v) => {
        v.replicas = 12;
      },
      "Scale to 12",
    );
    const pushed = await cfg(["push", "--target", "prod", "--yes"], { cwd: repo.dir, daemon });
    expect(pushed.code, pushed.stderr).toBe(0);
    const old = await cfg(
      ["get", "services/api", "--target", "prod", "--revision", "1", "--output", "json"],
      { cwd: repo.dir, daemon },
    );
    expect(old.code, old.stderr).toBe(0);
    expect(JSON.parse(old.stdout).value.replicas).toBe(4);

    const refused = await cfg(["rollback", "--target", "prod", "--to", String(start.body.revision)], {
      cwd: repo.dir,
      daemon,
    });
    expect(refused.code).toBe(1);
    const rolled = await cfg(["rollback", "--target", "prod", "--to", String(start.body.revision), "--yes"], {
      cwd: repo.dir,
      daemon,
    });
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout).toContain(`~ /replicas: 12 -> ${replicas}`);
    expect(rolled.stdout).toMatch(/Rolled back shop-prod to the content of revision \d+ as new revision \d+/);
    const live = await api<{ value: { replicas: number } }>(
      daemon,
      "GET",
      "/v1/projects/shop-prod/configs/services/api",
    );
    expect(live.body.value.replicas).toBe(replicas);
    const history = await api<{ items: Revision[] }>(daemon, "GET", "/v1/projects/shop-prod/pushes?limit=1");
    expect(history.body.items[0]).toMatchObject({ kind: "rollback", rollbackTo: start.body.revision });
  });

  it("deletes keys missing from the repository only with --prune", async () => {
    const repo = exampleRepo();
    repo.git("rm", "-q", "configs/staging/services/worker.json");
    repo.commitAll("Retire the worker");
    const kept = await cfg(["diff", "--target", "staging"], { cwd: repo.dir, daemon });
    expect(kept.stdout).toMatch(/not in the repository, kept \(use --prune to delete\): .*services\/worker/i);
    const pruned = await cfg(["diff", "--target", "staging", "--prune", "--output", "json"], {
      cwd: repo.dir,
      daemon,
    });
    const plan = JSON.parse(pruned.stdout) as { changes: { op: string; key: string }[] };
    expect(plan.changes).toContainEqual(expect.objectContaining({ op: "delete", key: "services/worker" }));
  });
});
