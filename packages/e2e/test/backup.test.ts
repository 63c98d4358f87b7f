/**
 * Backup and restore with the real binaries: a backup taken from a live node while writes go on
 * restores into a new single node and into a new 3-node cluster with every config, revision (git
 * provenance included) and schema; a damaged file is refused and nothing is written.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SECRET, TestCluster } from "./helpers/cluster.js";
import { CFGD_BIN, callApi, cfg, killAll, startDaemon } from "./helpers/processes.js";
import { exampleRepo } from "./helpers/repo.js";

let cluster: TestCluster | undefined;
afterAll(async () => {
  killAll();
  await cluster?.close();
});

const cfgd = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) =>
    execFile(
      process.execPath,
      [CFGD_BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    ),
  );

/** Everything a project holds, as the API shows it: configs, history and schemas. */
async function projectState(node: { url: string; token: string }, project: string, upTo?: number) {
  const configs = await callApi<{ revision: number; items: unknown[] }>(
    node,
    "GET",
    `/v1/projects/${project}/configs`,
  );
  const history = await callApi<{ items: { revision: number }[] }>(
    node,
    "GET",
    `/v1/projects/${project}/pushes?limit=1000`,
  );
  const schemas = await callApi<{ items: unknown[] }>(node, "GET", `/v1/projects/${project}/schemas`);
  return {
    revision: configs.body.revision,
    configs: configs.body.items,
    history: history.body.items.filter((r) => upTo === undefined || r.revision <= upTo),
    schemas: schemas.body.items,
  };
}

describe("cfgd backup and restore", () => {
  it("a backup of a live node restores into a new node and a new cluster with everything", async () => {
    const source = await startDaemon();
    const repo = exampleRepo();
    const env = { CFG_SERVER: source.url, CFG_TOKEN: source.token };
    for (const project of ["shop-staging", "shop-prod"]) {
      expect((await callApi(source, "POST", "/v1/projects", { name: project })).status).toBe(201);
    }
    for (const target of ["staging", "prod"]) {
      const pushed = await cfg(["push", "--target", target, "--yes"], { cwd: repo.dir, env });
      expect(pushed.code, pushed.stderr).toBe(0);
    }
    // A user and a project API key: metadata travels in the backup too (embedded mode).
    const password = "restored-password-0123";
    expect(
      (
        await callApi(source, "POST", "/v1/users", {
          email: "ops@example.com",
          password,
          clusterAdmin: false,
        })
      ).status,
    ).toBe(201);
    const apiKey = (
      await callApi<{ key: string }>(source, "POST", "/v1/projects/shop-prod/api-keys", { name: "app" })
    ).body.key;
    // Writes go on while the backup is taken.
    let writing = true;
    const writer = (async () => {
      for (let n = 0; writing && n < 500; n++)
        await callApi(source, "PUT", "/v1/projects/shop-staging/configs/busy", { n });
    })();
    const dir = mkdtempSync(join(tmpdir(), "cfg-backup-"));
    const file = join(dir, "shop.cfgbackup");
    const taken = await cfgd(["backup", "--to", file], env);
    writing = false;
    await writer;
    expect(taken.code, taken.stderr).toBe(0);
    expect(taken.stdout).toMatch(/Wrote .*shop\.cfgbackup: state at applied index \d+/);
    expect(readdirSync(dir)).toEqual(["shop.cfgbackup"]); // no temp file left
    const checked = await cfgd(["restore", "--from", file, "--data-dir", join(dir, "unused"), "--check"]);
    expect(checked.code, checked.stderr).toBe(0);

    // A new single node.
    const restoredDir = join(dir, "single");
    const restored = await cfgd(["restore", "--from", file, "--data-dir", restoredDir]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(/Restored 2 projects and \d+ keys/);
    const single = await startDaemon(restoredDir);
    const prodThere = await projectState(single, "shop-prod");
    expect(prodThere).toEqual(await projectState(source, "shop-prod"));
    expect(JSON.stringify(prodThere.history)).toContain(repo.git("rev-parse", "HEAD"));
    const stagingThere = await projectState(single, "shop-staging");
    // Staging moved on after the backup: the restored node has its state at the backup's revision.
    expect(stagingThere.history).toEqual(
      (await projectState(source, "shop-staging", stagingThere.revision)).history,
    );
    expect(stagingThere.schemas.length).toBeGreaterThan(0);
    // The user can log in with the same password, and the API key reads, on the restored node.
    const users = await callApi<{ items: { email: string }[] }>(single, "GET", "/v1/users");
    expect(users.body.items.map((u) => u.email)).toContain("ops@example.com");
    const login = await fetch(`${single.url}/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ops@example.com", password }),
    });
    expect(login.status).toBe(200);
    const read = await fetch(
      `${single.url}/v1/read/shop-prod/${prodThere.configs.length ? (prodThere.configs[0] as { key: string }).key : "x"}`,
      {
        headers: { authorization: `Bearer ${apiKey}` },
      },
    );
    expect(read.status).toBe(200);
    // It takes writes on top of the restored state.
    expect((await callApi(single, "PUT", "/v1/projects/shop-prod/configs/after", { ok: true })).status).toBe(
      200,
    );
    expect((await projectState(single, "shop-prod")).revision).toBe(prodThere.revision + 1);

    // A new 3-node cluster: the same file restored on every founder, as the snapshot it starts from.
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      prepare: async (member) => {
        const peers = cluster!.members.map((m) => `${m.id}=${m.url}`).join(",");
        const done = await cfgd(
          ["restore", "--from", file, "--data-dir", member.dataDir, "--node-id", member.id, "--peers", peers],
          { CFGD_CLUSTER_SECRET: SECRET },
        );
        expect(done.code, done.stderr).toBe(0);
        expect(done.stdout).toMatch(/Restore the same file on every other founder/);
      },
      onCreated: (created) => {
        cluster = created;
      },
    });
    const leader = await cluster.leader();
    const follower = cluster.members.find((m) => m !== leader)!;
    const viaFollower = { url: follower.url, token: cluster.token };
    expect(await projectState(viaFollower, "shop-prod")).toEqual(prodThere);
    expect(
      (await callApi(viaFollower, "PUT", "/v1/projects/shop-prod/configs/in-cluster", { ok: 1 })).status,
    ).toBe(200);
    for (const m of cluster.members) {
      await cluster.until(`${m.id} has the new key`, async () => {
        const r = await callApi<{ items: { key: string }[] }>(
          { url: m.url, token: cluster!.token },
          "GET",
          "/v1/projects/shop-prod/configs?consistency=serializable",
        );
        return r.body.items.some((i) => i.key === "in-cluster") ? true : undefined;
      });
    }
    const view = await callApi<{ members: { id: string }[] }>(viaFollower, "GET", "/v1/cluster");
    expect(view.body.members.map((m) => m.id)).toEqual(["n1", "n2", "n3"]);
    // A member added later gets the restored data too (in the snapshot: it is in no log).
    const n4 = await cluster.addMember("n4");
    const added = await cfg(["cluster", "add", "n4", n4.url], {
      cwd: dir,
      env: { CFG_SERVER: follower.url, CFG_TOKEN: cluster.token },
    });
    expect(added.code, added.stderr).toBe(0);
    cluster.start(n4, { join: true });
    const viaN4 = { url: n4.url, token: cluster.token };
    await cluster.until("n4 has the restored data", async () => {
      const r = await callApi<{ items: { key: string }[] }>(
        viaN4,
        "GET",
        "/v1/projects/shop-prod/configs?consistency=serializable",
      );
      return r.status === 200 && r.body.items.some((i) => i.key === "in-cluster") ? true : undefined;
    });
    const onN4 = await callApi<{ items: unknown[] }>(
      viaN4,
      "GET",
      "/v1/projects/shop-prod/pushes?limit=1000&consistency=serializable",
    );
    expect(onN4.body.items.length).toBe(prodThere.history.length + 1);
  }, 180_000);

  it("refuses a damaged backup, a non-empty data directory, and a missing token, changing nothing", async () => {
    const source = await startDaemon();
    await callApi(source, "POST", "/v1/projects", { name: "p" });
    const dir = mkdtempSync(join(tmpdir(), "cfg-backup-"));
    const file = join(dir, "p.cfgbackup");
    expect((await cfgd(["backup", "--to", file, "--data-dir", source.dataDir])).code).toBe(0);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0xff;
    const damaged = join(dir, "damaged.cfgbackup");
    writeFileSync(damaged, bytes);
    const refused = await cfgd(["restore", "--from", damaged, "--data-dir", join(dir, "new")]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/damaged: its SHA-256 does not match/);
    expect(readdirSync(dir).sort()).toEqual(["damaged.cfgbackup", "p.cfgbackup"]);
    const cut = join(dir, "cut.cfgbackup");
    writeFileSync(cut, bytes.subarray(0, 2000));
    expect((await cfgd(["restore", "--from", cut, "--data-dir", join(dir, "new")])).stderr).toMatch(
      /cut short/,
    );
    const notEmpty = await cfgd(["restore", "--from", file, "--data-dir", source.dataDir]);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toMatch(/is not empty/);
    const noToken = await cfgd(["backup", "--to", join(dir, "x"), "--server", source.url], { CFG_TOKEN: "" });
    expect(noToken.stderr).toMatch(/needs --token or CFG_TOKEN/);
    const wrongToken = await cfgd([
      "backup",
      "--to",
      join(dir, "x"),
      "--server",
      source.url,
      "--token",
      "nope",
    ]);
    expect(wrongToken.stderr).toMatch(/answered 401/);
    expect(readdirSync(dir).sort()).toEqual(["cut.cfgbackup", "damaged.cfgbackup", "p.cfgbackup"]);
  }, 60_000);
});
