import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { openNode } from "../daemon.js";
import type { Command } from "../state/commands.js";
import { RaftLogStore } from "../storage/raft-log-store.js";
import { openDatabase } from "../storage/sqlite.js";

const meta = (id: string) => ({ id, actor: "test", at: "2026-01-01T00:00:00.000Z" });

describe("SingleNodeLog", () => {
  it("replays committed entries that were never applied, and applies nothing twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfgd-log-"));
    const first = openNode(dir);
    await first.service.createProject("shop", "test");
    await first.service.push(
      "shop",
      { baseRevision: 0, changes: [{ op: "put", key: "a", value: 1 }] },
      "test",
    );
    await first.close();

    // A crash after the log's fsync and before state.db's commit: entries durable, not applied.
    const raft = new RaftLogStore(openDatabase(join(dir, "raft.db"), true));
    const last = raft.lastIndex();
    const pending: Command[] = [
      {
        type: "push",
        project: "shop",
        baseRevision: 1,
        changes: [{ op: "put", key: "a", value: 2 }],
        meta: meta("x"),
      },
      {
        type: "push",
        project: "shop",
        baseRevision: 2,
        changes: [{ op: "put", key: "b", value: 3 }],
        meta: meta("y"),
      },
    ];
    raft.save(
      { term: 1, vote: null, commit: last + 2 },
      pending.map((command, i) => ({
        index: last + 1 + i,
        term: 1,
        type: "normal",
        data: JSON.stringify(command),
      })),
    );
    raft.close();

    const second = openNode(dir);
    expect(second.replayed).toBe(2);
    expect(second.service.getConfig("shop", "a").value).toBe(2);
    expect(second.service.getConfig("shop", "b").value).toBe(3);
    expect(second.service.projectInfo("shop").revision).toBe(3);
    expect(second.machine.appliedIndex).toBe(last + 2);
    await second.close();

    const third = openNode(dir);
    expect(third.replayed).toBe(0);
    expect(third.service.projectInfo("shop").revision).toBe(3);
    await third.close();
  });

  it("puts concurrent proposals into one fsynced batch (group commit)", async () => {
    const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-group-")));
    await node.service.createProject("shop", "test");
    const before = { ...node.log.stats };
    const writes = Array.from({ length: 50 }, (_, i) =>
      node.service.putKey("shop", `k${i}`, { i }, undefined, "test"),
    );
    const results = await Promise.all(writes);
    expect(new Set(results.map((r) => r.revision)).size).toBe(50);
    expect(node.log.stats.entries - before.entries).toBe(50);
    expect(node.log.stats.batches - before.batches).toBeLessThan(5);
    await node.close();
  });
});

describe("the cfgd binary", () => {
  it("creates a 0600 admin token, serves, and exits 0 on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfgd-bin-"));
    const bin = resolve(import.meta.dirname, "../../bin/cfgd.js");
    const child = spawn(process.execPath, [bin, "--listen", "127.0.0.1:0", "--data-dir", dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((done, fail) => {
        let out = "";
        const timer = setTimeout(() => fail(new Error(`cfgd did not start: ${out}`)), 20_000);
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /serving (http:\/\/\S+)/.exec(out);
          if (match) {
            clearTimeout(timer);
            done(match[1]!);
          }
        });
        child.once("exit", (code) => fail(new Error(`cfgd exited with ${code}`)));
      });
      expect(statSync(join(dir, "admin-token")).mode & 0o777).toBe(0o600);
      const token = readFileSync(join(dir, "admin-token"), "utf8").trim();
      expect(token).toMatch(/^cfgt_[A-Za-z0-9_-]{43}$/);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const created = await fetch(`${url}/v1/projects`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: "shop" }),
      });
      expect(created.status).toBe(201);
      const code = await new Promise<number | null>((done) => {
        child.once("exit", (c) => done(c));
        child.kill("SIGTERM");
      });
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
