import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { GitProvenance } from "@cfguardian/shared";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim();
  } catch {
    return null;
  }
}

export interface GitState {
  provenance: GitProvenance;
  /** Paths with uncommitted changes under the repository directory (git status --porcelain). */
  dirtyPaths: string[];
}

/** Git provenance of `dir` (the directory of cfg.json), or null when it is not in a git work tree. */
export async function readGitState(dir: string): Promise<GitState | null> {
  if ((await git(dir, ["rev-parse", "--is-inside-work-tree"])) !== "true") return null;
  const [head, branch, status] = await Promise.all([
    git(dir, ["log", "-1", "--format=%H%x00%an <%ae>%x00%s"]),
    git(dir, ["rev-parse", "--abbrev-ref", "HEAD"]),
    git(dir, ["status", "--porcelain", "--untracked-files=all", "--", "."]),
  ]);
  const [commit, author, message] = head ? head.split("\0") : [];
  const dirtyPaths = (status ?? "")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => line.slice(3));
  return {
    provenance: {
      commit: commit || null,
      branch: branch && branch !== "HEAD" ? branch : null,
      author: author || null,
      message: message || null,
      dirty: dirtyPaths.length > 0,
    },
    dirtyPaths,
  };
}
