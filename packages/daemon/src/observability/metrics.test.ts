import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../auth/admin-token.js";
import { openNode } from "../daemon.js";
import { createApp } from "../http/app.js";
import { silentLogger } from "../logger.js";
import { Metrics } from "./metrics.js";

const TOKEN = "cfgt_metrics";
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The value of one sample of the Prometheus text format, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("/metrics", () => {
  it("counts requests by route, proposals by result, conflicts, validation failures, and the log's fsyncs", async () => {
    const metrics = new Metrics();
    const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-metrics-")), { metrics });
    closers.push(node.close);
    const app = createApp({
      service: node.service,
      authenticator: new AdminTokenAuthenticator(TOKEN),
      logger: silentLogger,
      ready: () => true,
      limits: { maxValueBytes: 1024, maxBodyBytes: 64 * 1024 },
      metrics,
    });
    const call = (method: string, path: string, body?: unknown) =>
      app.request(path, {
        method,
        headers: { authorization: `Bearer ${TOKEN}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await call("POST", "/v1/projects", { name: "shop" })).status).toBe(201);
    const put = (base: number, value: unknown, schemas?: unknown) =>
      call("POST", "/v1/projects/shop/pushes", {
        baseRevision: base,
        changes: [{ op: "put", key: "app", value }],
        ...(schemas ? { schemas } : {}),
      });
    expect((await put(0, { port: 1 })).status).toBe(200);
    expect((await put(0, { port: 2 })).status).toBe(409);
    const schema = { name: "app", match: "app", schema: { type: "object", required: ["port"] } };
    expect((await put(1, { nope: true }, [schema])).status).toBe(422);
    expect((await call("GET", "/v1/projects/shop/configs/app")).status).toBe(200);

    const response = await app.request("/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await response.text();
    const route = "/v1/projects/:project/pushes";
    expect(sample(text, "cfgd_http_requests_total", { method: "POST", route, status: "200" })).toBe(1);
    expect(sample(text, "cfgd_http_requests_total", { method: "POST", route, status: "409" })).toBe(1);
    expect(
      sample(text, "cfgd_http_requests_total", { route: "/v1/projects/:project/configs/:key{.+}" }),
    ).toBe(1);
    expect(sample(text, "cfgd_http_request_duration_seconds_count", { method: "POST", route })).toBe(3);
    expect(sample(text, "cfgd_proposals_total", { type: "push", result: "ok" })).toBe(1);
    expect(sample(text, "cfgd_proposals_total", { type: "push", result: "conflict" })).toBe(1);
    expect(sample(text, "cfgd_push_conflicts_total")).toBe(1);
    expect(sample(text, "cfgd_validation_failures_total")).toBe(1);
    expect(sample(text, "cfgd_raft_persisted_entries_total")).toBe(4);
    expect(sample(text, "cfgd_raft_persist_duration_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "cfgd_raft_applied_index")).toBe(4);
    expect(sample(text, "cfgd_raft_role", { role: "single" })).toBe(1);
    expect(sample(text, "cfgd_process_resident_memory_bytes")).toBeGreaterThan(0);
    // Counts only: no project names, keys or values.
    expect(text).not.toMatch(/shop|port/);
  });
});
