import { afterAll, describe, expect, it } from "vitest";
import { cfg, killAll } from "./helpers/processes.js";
import { exampleRepo } from "./helpers/repo.js";

afterAll(killAll);

describe("cfg validate (offline, real binary)", () => {
  it("passes on the example repository", async () => {
    const repo = exampleRepo();
    const result = await cfg(["validate"], { cwd: repo.dir });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("staging (shop-staging): 6 configs valid");
  });

  it("lists every problem with file:line:column and exits 1", async () => {
    const repo = exampleRepo();
    repo.write(
      "configs/prod/services/api.json",
      repo.read("configs/prod/services/api.json").replace('"port": 8080', '"port": "8080"'),
    );
    repo.editJson("configs/staging/services/web.json", (v) => {
      delete v.logLevel;
    });
    repo.write(
      "configs/prod/payments/gateway.json",
      '{\n  "provider": "stripe",\n  "retries": 2\n  "timeoutMs": 1\n}\n',
    );
    const result = await cfg(["validate"], { cwd: repo.dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "configs/prod/services/api.json:3:3: error: /port: must be integer (schema service)",
    );
    expect(result.stderr).toMatch(
      /configs\/staging\/services\/web\.json:1:1: error: \/logLevel: missing required property "logLevel"/,
    );
    expect(result.stderr).toContain("configs/prod/payments/gateway.json:4:3: error: invalid JSON");
    expect(result.stderr).toContain("3 problems found.");

    const json = await cfg(["validate", "--output", "json"], { cwd: repo.dir });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as {
      ok: boolean;
      problems: { file: string; line: number; pointer?: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(3);
  });

  it("prints GitHub Actions annotations under Actions", async () => {
    const repo = exampleRepo();
    repo.write(
      "configs/prod/services/api.json",
      repo.read("configs/prod/services/api.json").replace('"port": 8080', '"port": "8080"'),
    );
    const result = await cfg(["validate", "--target", "prod"], {
      cwd: repo.dir,
      env: { GITHUB_ACTIONS: "true" },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "::error file=configs/prod/services/api.json,line=3,col=3::/port: must be integer (schema service)",
    );
  });

  it("refuses bad key names and unknown targets", async () => {
    const repo = exampleRepo();
    repo.write("configs/staging/Bad Name.json", "{}");
    const bad = await cfg(["validate", "--target", "staging"], { cwd: repo.dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Bad Name\.json:1:1: error: invalid key/);
    const unknown = await cfg(["validate", "--target", "dev"], { cwd: repo.dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no target "dev" in cfg.json; targets: staging, prod');
  });
});
