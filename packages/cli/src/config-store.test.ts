import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { contextForServer, contextNameFor, loadConfig, saveConfig } from "./config-store.js";
import { resolveServer, resolveToken } from "./context.js";

const env = () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-conf-"));
  return { CFG_CONFIG_DIR: join(dir, "nested"), XDG_CONFIG_HOME: dir };
};
const future = new Date(Date.now() + 600_000).toISOString();

describe("the CLI's contexts", () => {
  it("are saved with mode 0600 and read back; a missing file is no context", () => {
    const e = env();
    expect(loadConfig(e)).toEqual({ contexts: {} });
    saveConfig(e, { current: "a", contexts: { a: { server: "http://h:1", accessToken: "t" } } });
    expect(statSync(join(e.CFG_CONFIG_DIR, "config.json")).mode & 0o777).toBe(0o600);
    expect(loadConfig(e)).toEqual({
      current: "a",
      contexts: { a: { server: "http://h:1", accessToken: "t" } },
    });
  });

  it("name a server by host:port and find the context for a server, the current one first", () => {
    expect(contextNameFor("https://cfg.example.com:8443/")).toBe("cfg.example.com:8443");
    const config = {
      current: "b",
      contexts: { a: { server: "http://h:1" }, b: { server: "http://h:1" }, c: { server: "http://h:2" } },
    };
    expect(contextForServer(config, "http://h:1/")?.[0]).toBe("b");
    expect(contextForServer(config, "http://h:2")?.[0]).toBe("c");
    expect(contextForServer(config, "http://h:3")).toBeUndefined();
  });

  it("give the server and token unless a flag or CFG_TOKEN / CFG_SERVER says otherwise", async () => {
    const e = env();
    saveConfig(e, {
      current: "a",
      contexts: { a: { server: "http://h:1", accessToken: "session", expiresAt: future } },
    });
    expect(resolveServer({}, e)).toBe("http://h:1");
    expect(resolveServer({}, { ...e, CFG_SERVER: "http://other:2" })).toBe("http://other:2");
    expect(resolveServer({ server: "http://flag:3" }, e)).toBe("http://flag:3");
    expect(await resolveToken({}, e, "http://h:1")).toBe("session");
    expect(await resolveToken({}, { ...e, CFG_TOKEN: "ci" }, "http://h:1")).toBe("ci");
    expect(await resolveToken({ token: "flag" }, { ...e, CFG_TOKEN: "ci" }, "http://h:1")).toBe("flag");
    expect(await resolveToken({}, e, "http://elsewhere:9")).toBeUndefined();
  });
});
