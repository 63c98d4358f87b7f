import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AdminTokenAuthenticator } from "../../auth/admin-token.js";
import { openNode } from "../../daemon.js";
import { silentLogger } from "../../logger.js";
import { WatchService } from "../../services/watch-service.js";
import { createApp } from "../app.js";

const TOKEN = "cfgt_read";
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function setup() {
  const node = openNode(mkdtempSync(join(tmpdir(), "cfgd-read-")));
  closers.push(node.close);
  const app = createApp({
    service: node.service,
    authenticator: new AdminTokenAuthenticator(TOKEN),
    logger: silentLogger,
    ready: () => true,
    limits: { maxValueBytes: 4096, maxBodyBytes: 64 * 1024 },
    watch: new WatchService(node.machine),
  });
  const call = (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ) =>
    app.request(path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  return { app, call, node };
}

/** Read server-sent events from a streaming response until `count` events arrived. */
async function readEvents(response: Response, count: number, timeoutMs = 5000) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { id?: string; event?: string; data?: string; comment?: string }[] = [];
  let buffer = "";
  const deadline = Date.now() + timeoutMs;
  while (events.filter((e) => e.event && e.event !== "start").length < count) {
    if (Date.now() > deadline) throw new Error(`only ${JSON.stringify(events)} before the timeout`);
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event: { id?: string; event?: string; data?: string; comment?: string } = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) event.comment = line.slice(1).trim();
        else {
          const at = line.indexOf(":");
          const field = line.slice(0, at);
          const value = line.slice(at + 1).replace(/^ /, "");
          if (field === "id" || field === "event" || field === "data") event[field] = value;
        }
      }
      events.push(event);
      end = buffer.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return events;
}

const put = (call: ReturnType<typeof setup>["call"], key: string, value: unknown) =>
  call("PUT", `/v1/projects/shop/configs/${key}`, value);

describe("GET /v1/read", () => {
  it("answers value, version and revision with an ETag; If-None-Match gives 304; bad input is refused", async () => {
    const { call } = setup();
    await call("POST", "/v1/projects", { name: "shop" });
    await put(call, "app/db", { pool: 4 });
    const first = await call("GET", "/v1/read/shop/app/db");
    expect(first.status).toBe(200);
    expect(first.headers.get("etag")).toBe('"1"');
    expect(first.headers.get("x-cfg-revision")).toBe("1");
    expect(await first.json()).toMatchObject({ key: "app/db", value: { pool: 4 }, version: 1, revision: 1 });
    expect((await call("GET", "/v1/read/shop/app/db", undefined, { "if-none-match": '"1"' })).status).toBe(
      304,
    );
    expect((await call("GET", "/v1/read/shop/app/db?consistency=linearizable")).status).toBe(200);
    expect((await call("GET", "/v1/read/shop/nope")).status).toBe(404);
    expect((await call("GET", "/v1/read/shop/app/db?wait=1s")).status).toBe(400);
    expect((await call("GET", "/v1/read/shop/app/db?wait=soon&index=1")).status).toBe(400);
  });

  it("a blocking read returns when the key changes, and 304 with the revision when the wait runs out", async () => {
    const { call } = setup();
    await call("POST", "/v1/projects", { name: "shop" });
    await put(call, "app/db", { pool: 4 });
    await put(call, "other", 1);
    const started = Date.now();
    const waiting = call("GET", "/v1/read/shop/app/db?wait=10s&index=2");
    await new Promise((done) => setTimeout(done, 100));
    await put(call, "other", 2); // another key: keeps waiting
    await new Promise((done) => setTimeout(done, 100));
    await put(call, "app/db", { pool: 8 });
    const answer = await waiting;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ value: { pool: 8 }, version: 2, revision: 4 });
    expect(Date.now() - started).toBeLessThan(10_000);
    const idle = await call("GET", "/v1/read/shop/app/db?wait=300ms&index=4");
    expect(idle.status).toBe(304);
    expect(idle.headers.get("x-cfg-revision")).toBe("4");
    // A change before the call is answered at once.
    expect((await call("GET", "/v1/read/shop/app/db?wait=10s&index=1")).status).toBe(200);
  });
});

describe("GET /v1/watch", () => {
  it("sends each revision once, in order, from fromRevision or Last-Event-ID, filtered by prefix, with values", async () => {
    const { call } = setup();
    await call("POST", "/v1/projects", { name: "shop" });
    await put(call, "app/a", 1);
    await put(call, "web/b", 2);
    const stream = await call("GET", "/v1/watch/shop?fromRevision=1&values=true");
    expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
    const later = (async () => {
      await new Promise((done) => setTimeout(done, 50));
      await put(call, "app/a", 3);
      await call("DELETE", "/v1/projects/shop/configs/web/b");
    })();
    const all = await readEvents(stream, 4);
    expect(all.find((e) => e.event === "start")).toMatchObject({ id: "0" });
    const events = all.filter((e) => e.event === "revision");
    await later;
    expect(events.map((e) => e.id)).toEqual(["1", "2", "3", "4"]);
    expect(events.map((e) => JSON.parse(e.data!).changes[0])).toEqual([
      { op: "put", key: "app/a", version: 1, value: 1 },
      { op: "put", key: "web/b", version: 1, value: 2 },
      { op: "put", key: "app/a", version: 2, value: 3 },
      { op: "delete", key: "web/b", version: 2, value: null },
    ]);
    const resumed = await call("GET", "/v1/watch/shop?prefix=app/", undefined, { "last-event-id": "1" });
    const appOnly = (await readEvents(resumed, 1)).filter((e) => e.event === "revision");
    expect(
      appOnly.map((e) => [e.id, JSON.parse(e.data!).changes.map((c: { key: string }) => c.key)]),
    ).toEqual([["3", ["app/a"]]]);
  });

  it("sends heartbeats while idle and a reset event when the project is deleted", async () => {
    const { call } = setup();
    await call("POST", "/v1/projects", { name: "shop" });
    const stream = await call("GET", "/v1/watch/shop?heartbeat=100ms");
    setTimeout(() => void call("DELETE", "/v1/projects/shop"), 350);
    const events = await readEvents(stream, 1);
    expect(events.filter((e) => e.comment?.startsWith("heartbeat")).length).toBeGreaterThanOrEqual(2);
    const reset = events.find((e) => e.event === "reset")!;
    expect(JSON.parse(reset.data!)).toMatchObject({ project: "shop", reason: "deleted" });
    expect((await call("GET", "/v1/watch/nope")).status).toBe(404);
    expect((await call("GET", "/v1/watch/shop", undefined, { "last-event-id": "x" })).status).toBe(400);
  });

  it("many watchers of a project share each answer, and every one still sees every change", async () => {
    const { call, node } = setup();
    await call("POST", "/v1/projects", { name: "shop" });
    const watch = new WatchService(node.machine);
    const first = watch.eventsAfter("shop", 0);
    expect(first.events).toEqual([]);
    expect(watch.eventsAfter("shop", 0)).toBe(first); // the same answer, not read again
    await put(call, "a", 1);
    const second = watch.eventsAfter("shop", 0);
    expect(second).not.toBe(first);
    expect(second.events.map((e) => e.revision)).toEqual([1]);
    const streams = await Promise.all([1, 2, 3].map(() => call("GET", "/v1/watch/shop")));
    setTimeout(() => void put(call, "b", 2), 50);
    for (const stream of streams) {
      const events = await readEvents(stream, 1);
      expect(events.filter((e) => e.event === "revision").map((e) => e.id)).toEqual(["2"]);
    }
  });
});
