import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readGitState } from "./git.js";

describe("readGitState", () => {
  it("reads provenance and sees a dirty tree", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-git-"));
    const git = (...args: string[]) => execFileSync("git", args, { cwd: dir });
    git("init", "-q", "-b", "main");
    git("config", "user.name", "Ada");
    git("config", "user.email", "ada@example.com");
    writeFileSync(join(dir, "cfg.json"), "{}");
    git("add", ".");
    git("commit", "-qm", "Add cfg.json");
    const clean = await readGitState(dir);
    expect(clean?.provenance).toMatchObject({
      branch: "main",
      author: "Ada <ada@example.com>",
      message: "Add cfg.json",
      dirty: false,
    });
    expect(clean?.provenance.commit).toMatch(/^[0-9a-f]{40}$/);
    writeFileSync(join(dir, "new.json"), "{}");
    expect((await readGitState(dir))?.dirtyPaths).toEqual(["new.json"]);
  });
  it("is null outside git", async () => {
    expect(await readGitState(mkdtempSync(join(tmpdir(), "cfg-nogit-")))).toBeNull();
  });
});
