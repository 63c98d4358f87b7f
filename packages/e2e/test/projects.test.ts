import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cfg, type Daemon, killAll, startDaemon } from "./helpers/processes.js";

let daemon: Daemon;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(killAll);

describe("cfg init and cfg project (real binary, real cfgd)", () => {
  it("init writes a cfg.json that validates, diffs and pushes, and refuses to overwrite it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-init-"));
    const init = await cfg(["init", "--project", "billing", "--target", "dev"], { cwd: dir, daemon });
    expect(init.code, init.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, "cfg.json"), "utf8"));
    expect(config.targets.dev).toMatchObject({ project: "billing", dir: "configs/dev" });
    expect(existsSync(join(dir, "configs/dev"))).toBe(true);
    expect((await cfg(["init"], { cwd: dir, daemon })).stderr).toMatch(/already exists/);
    writeFileSync(join(dir, "configs/dev/limits.json"), '{ "maxInvoices": 100 }\n');
    expect((await cfg(["validate"], { cwd: dir, daemon })).code).toBe(0);
    expect((await cfg(["project", "create", "billing"], { cwd: dir, daemon })).code).toBe(0);
    const pushed = await cfg(["push", "--yes", "--allow-dirty"], { cwd: dir, daemon });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain("not in a git work tree");
    const got = await cfg(["get", "limits", "--output", "json"], { cwd: dir, daemon });
    expect(JSON.parse(got.stdout)).toMatchObject({ key: "limits", value: { maxInvoices: 100 }, version: 1 });
  });

  it("creates, lists and deletes projects, with clear errors", async () => {
    const cwd = daemon.dataDir;
    expect((await cfg(["project", "create", "audit-logs"], { cwd, daemon })).code).toBe(0);
    const again = await cfg(["project", "create", "audit-logs"], { cwd, daemon });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("already exists");
    const bad = await cfg(["project", "create", "Audit Logs"], { cwd, daemon });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid project name");
    const list = JSON.parse((await cfg(["project", "list", "--output", "json"], { cwd, daemon })).stdout);
    expect(list.items.map((p: { name: string }) => p.name)).toContain("audit-logs");
    expect((await cfg(["project", "delete", "audit-logs"], { cwd, daemon })).stderr).toContain("needs --yes");
    expect((await cfg(["project", "delete", "audit-logs", "--yes"], { cwd, daemon })).code).toBe(0);
    const missing = await cfg(["history", "--project", "audit-logs"], { cwd, daemon });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cfg project create audit-logs");
  });
});
