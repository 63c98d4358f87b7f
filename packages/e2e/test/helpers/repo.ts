import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ROOT } from "./processes.js";

export interface TempRepo {
  dir: string;
  git(...args: string[]): string;
  read(path: string): string;
  write(path: string, text: string): void;
  /** Edit a JSON file and commit it. */
  editJson(path: string, edit: (value: Record<string, unknown>) => void, message?: string): void;
  commitAll(message: string): string;
}

/** A fresh git repository holding a copy of examples/config-repo, committed on branch main. */
export function exampleRepo(): TempRepo {
  const dir = mkdtempSync(join(tmpdir(), "cfg-repo-"));
  cpSync(join(ROOT, "examples/config-repo"), dir, { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Grace Hopper");
  git("config", "user.email", "grace@example.com");
  git("config", "commit.gpgsign", "false");
  git("add", ".");
  git("commit", "-qm", "Initial configs");
  const repo: TempRepo = {
    dir,
    git,
    read: (path) => readFileSync(join(dir, path), "utf8"),
    write: (path, text) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    editJson(path, edit, message) {
      const value = JSON.parse(repo.read(path)) as Record<string, unknown>;
      edit(value);
      repo.write(path, `${JSON.stringify(value, null, 2)}\n`);
      if (message) repo.commitAll(message);
    },
    commitAll(message) {
      git("add", "-A");
      git("commit", "-qm", message);
      return git("rev-parse", "HEAD");
    },
  };
  return repo;
}
