/**
 * Tracing across real processes: a write sent to a follower with a W3C traceparent is one trace
 * from the follower's server span, through its forward to the leader, to the leader's server span,
 * its proposal and the apply; spans reach an OTLP/HTTP receiver configured only by OTEL_*
 * variables, and the nodes' log lines carry the trace id.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { TestCluster } from "./helpers/cluster.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

const spans: (OtlpSpan & { node: string })[] = [];
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    if (req.url === "/v1/traces") {
      const data = JSON.parse(body) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: OtlpSpan[] }[];
        }[];
      };
      for (const rs of data.resourceSpans) {
        const node =
          rs.resource.attributes.find((a) => a.key === "service.instance.id")?.value.stringValue ?? "?";
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, node });
      }
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
});

let cluster: TestCluster | undefined;
afterAll(async () => {
  await cluster?.close();
  receiver.close();
});

describe("tracing with OpenTelemetry (real processes, OTLP over HTTP)", () => {
  it("follows a write from a follower through the forward to the leader's propose and apply", async () => {
    await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
    const port = (receiver.address() as AddressInfo).port;
    cluster = await TestCluster.create(["n1", "n2", "n3"], {
      args: ["--log-level", "debug"],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_BSP_SCHEDULE_DELAY: "100",
      },
    });
    const c = cluster;
    const leader = await c.leader();
    const follower = c.members.find((m) => m !== leader)!;
    const traceId = randomBytes(16).toString("hex");
    const parentId = randomBytes(8).toString("hex");
    const response = await fetch(`${follower.url}/v1/projects`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${c.token}`,
        "content-type": "application/json",
        traceparent: `00-${traceId}-${parentId}-01`,
      },
      body: JSON.stringify({ name: "traced" }),
    });
    expect(response.status).toBe(201);

    const ours = () => spans.filter((s) => s.traceId === traceId);
    // Each node exports on its own schedule: wait for the follower's server span as well, which
    // ends only after the leader has answered.
    await c.until("the spans of the write", async () =>
      ours().some((s) => s.name === "cfgd.propose") &&
      ours().some((s) => s.name === "POST /v1/projects" && s.node === follower.id) &&
      spans.some((s) => s.name === "cfgd.state.apply" && s.node === leader.id)
        ? true
        : undefined,
    );
    const find = (node: string, name: string) => {
      const span = ours().find((s) => s.node === node && s.name === name);
      if (!span)
        throw new Error(
          `no span ${name} from ${node} in ${JSON.stringify(ours().map((s) => [s.node, s.name]))}`,
        );
      return span;
    };
    const followerServer = find(follower.id, "POST /v1/projects");
    expect(followerServer.parentSpanId).toBe(parentId);
    const forward = find(follower.id, "cfgd.forward-to-leader");
    expect(forward.parentSpanId).toBe(followerServer.spanId);
    const leaderServer = find(leader.id, "POST /v1/projects");
    expect(leaderServer.parentSpanId).toBe(forward.spanId);
    const propose = find(leader.id, "cfgd.propose");
    expect(propose.parentSpanId).toBe(leaderServer.spanId);
    // The apply batch is its own span, linked to the proposals it applied.
    const apply = spans.find(
      (s) =>
        s.node === leader.id &&
        s.name === "cfgd.state.apply" &&
        s.links?.some((l) => l.spanId === propose.spanId),
    );
    expect(apply).toBeDefined();
    expect(spans.some((s) => s.node === leader.id && s.name === "cfgd.raft.persist")).toBe(true);
    // Log lines written while serving the request carry its trace id.
    const lines = readFileSync(`${leader.dataDir}.log`, "utf8").split("\n").filter(Boolean);
    expect(lines.some((line) => line.includes(`"traceId":"${traceId}"`))).toBe(true);
  }, 60_000);
});
