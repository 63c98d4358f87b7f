import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadRepoConfig, pickTarget } from "./config-file.js";
import { loadLocalState } from "./local-state.js";

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "cfg-repo-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, ".."), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const cfgJson = JSON.stringify({
  targets: {
    staging: { server: "http://127.0.0.1:7070", project: "shop-staging", dir: "configs/staging" },
    prod: { project: "shop-prod", dir: "configs/prod" },
  },
  schemas: [{ name: "service", match: "services/**", file: "schemas/service.json" }],
});
const schema = JSON.stringify({
  type: "object",
  required: ["port", "image"],
  properties: { port: { type: "integer" }, image: { type: "string" } },
});

describe("cfg.json", () => {
  it("reports every structural problem", () => {
    const root = repo({
      "cfg.json": JSON.stringify({
        targets: { a: { project: "Bad Name", dir: "/abs" }, b: { dir: "x", server: "ftp://x" } },
        schemas: [{ name: "s", match: "x/**", file: "missing.json" }],
      }),
    });
    const loaded = loadRepoConfig(root);
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const messages = loaded.problems.map((p) => p.message).join("\n");
    expect(messages).toMatch(/invalid project name/);
    expect(messages).toMatch(/"dir" must be a path inside the repository/);
    expect(messages).toMatch(/target "b" needs "project"/);
    expect(messages).toMatch(/"server" must be an http/);
    expect(messages).toMatch(/schema file missing.json does not exist/);
  });
  it("finds cfg.json upward and picks targets", () => {
    const root = repo({
      "cfg.json": cfgJson,
      "schemas/service.json": schema,
      "configs/staging/x.json": "{}",
    });
    const loaded = loadRepoConfig(join(root, "configs", "staging"));
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    expect(pickTarget(loaded.config, "prod").project).toBe("shop-prod");
    expect(() => pickTarget(loaded.config, undefined)).toThrow(/several targets \(staging, prod\)/);
    expect(() => pickTarget(loaded.config, "dev")).toThrow(/no target "dev"/);
  });
});

describe("loadLocalState", () => {
  it("derives keys, hashes content and lists every problem with its location", async () => {
    const root = repo({
      "cfg.json": cfgJson,
      "schemas/service.json": schema,
      "configs/staging/services/api.json": '{\n  "port": "8080"\n}\n',
      "configs/staging/services/web.json": '{"port": 80, "image": "web:1"}',
      "configs/staging/features/flags.json": '{\n  "a": true,\n}\n',
      "configs/staging/Bad Key.json": "{}",
      "configs/staging/notes.txt": "ignored",
    });
    const loaded = loadRepoConfig(root);
    if (!loaded.ok) throw new Error("cfg.json should load");
    const state = await loadLocalState(loaded.config, pickTarget(loaded.config, "staging"), root);
    expect([...state.configs.keys()].sort()).toEqual(["services/api", "services/web"]);
    const problems = state.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
    expect(problems).toEqual([
      expect.stringMatching(/^configs\/staging\/Bad Key\.json:1:1: invalid key/),
      expect.stringMatching(/^configs\/staging\/features\/flags\.json:3:1: invalid JSON/),
      'configs/staging/services/api.json:1:1: /image: missing required property "image" (schema service)',
      "configs/staging/services/api.json:2:3: /port: must be integer (schema service)",
    ]);
  });
});
