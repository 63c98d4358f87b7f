import { afterAll, describe, expect, it } from "vitest";
import { api, type Daemon, killAll, startDaemon } from "./helpers/processes.js";

afterAll(killAll);

interface Manifest {
  revision: number;
  entries: Record<string, { version: number }>;
}

const KEYS = ["a/one", "a/two", "a/three", "b/four"];

/** Push number n writes every key with {n, key}: a torn push would show mixed n values. */
function pushBody(n: number, baseRevision: number) {
  return {
    baseRevision,
    changes: KEYS.map((key) => ({ op: "put" as const, key, value: { n, key, padding: "x".repeat(512) } })),
    message: `push ${n}`,
  };
}

describe("kill -9 of cfgd during a stream of pushes", () => {
  it("keeps every acknowledged push and never half of one", async () => {
    let daemon: Daemon = await startDaemon();
    expect([200, 201]).toContain((await api(daemon, "POST", "/v1/projects", { name: "crash" })).status);
    const acknowledged = new Map<number, number>(); // push n -> revision
    let n = 0;
    for (let round = 0; round < 3; round++) {
      let revision = (await api<Manifest>(daemon, "GET", "/v1/projects/crash/manifest")).body.revision;
      const stopAt = Date.now() + 400 + Math.floor(Math.random() * 600);
      let killed = false;
      const killer = setTimeout(() => {
        killed = true;
        daemon.process.kill("SIGKILL");
      }, stopAt - Date.now());
      // Pushes go out back to back until the kill cuts one off mid-flight.
      for (let i = 0; i < 10_000 && !killed; i++) {
        n++;
        try {
          const response = await api<{ revision: number }>(
            daemon,
            "POST",
            "/v1/projects/crash/pushes",
            pushBody(n, revision),
          );
          if (response.status === 200 || response.status === 201) {
            acknowledged.set(n, response.body.revision);
            revision = response.body.revision;
          }
        } catch {
          break; // the connection died with the process
        }
      }
      clearTimeout(killer);
      await daemon.kill();
      daemon = await startDaemon(daemon.dataDir);
      const manifest = (await api<Manifest>(daemon, "GET", "/v1/projects/crash/manifest")).body;
      // Every acknowledged push is there with its exact content.
      for (const [push, rev] of acknowledged) {
        expect(manifest.revision).toBeGreaterThanOrEqual(rev);
        for (const key of KEYS) {
          const entry = await api<{ value: { n: number } }>(
            daemon,
            "GET",
            `/v1/projects/crash/configs/${key}?revision=${rev}`,
          );
          expect(entry.status).toBe(200);
          expect(entry.body.value.n).toBe(push);
        }
      }
      // No push is half there: at every revision, all keys carry the same push number.
      for (let rev = 1; rev <= manifest.revision; rev++) {
        const seen = new Set<number>();
        for (const key of KEYS) {
          const entry = await api<{ value: { n: number } }>(
            daemon,
            "GET",
            `/v1/projects/crash/configs/${key}?revision=${rev}`,
          );
          seen.add(entry.body.value.n);
        }
        expect(seen.size).toBe(1);
      }
    }
    expect(acknowledged.size).toBeGreaterThan(0);
    await daemon.stop();
  });
});
