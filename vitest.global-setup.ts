import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Every temporary directory a run makes (its tests' data dirs and repos, and those of the cfg and
 * cfgd processes they start) goes under one directory of its own, removed when the run ends: the
 * tests themselves leave theirs behind, 400-450 MB in /tmp per run of the whole suite.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "cfg-test-run-"));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
