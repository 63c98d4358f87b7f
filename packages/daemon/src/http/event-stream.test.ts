/**
 * The Node path of an event stream, through a real @hono/node-server on loopback: messages in
 * order with the headers set before it (as the middlewares set them), the end of `run` ends the
 * answer, and a client that goes away aborts the stream's signal.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventStream, sseMessage } from "./event-stream.js";
import { setHeader } from "./response.js";

let release: () => void = () => {};
let abortedSignals = 0;
const app = new Hono()
  .get("/three", (c) => {
    setHeader(c, "X-Request-Id", "r-1");
    return eventStream(c, async (stream) => {
      for (let i = 1; i <= 3; i++) await stream.write(sseMessage("revision", `{"n":${i}}`, String(i)));
    });
  })
  .get("/held", (c) =>
    eventStream(c, async (stream) => {
      await stream.write(": open\n\n");
      await new Promise<void>((resolve) => {
        stream.signal.addEventListener("abort", () => {
          abortedSignals++;
          resolve();
        });
        release = resolve;
      });
    }),
  );
const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 });
let base = "";
beforeAll(async () => {
  if (!server.listening) await new Promise((listening) => server.once("listening", listening));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  (server as Server).closeAllConnections();
  return new Promise<void>((done) => server.close(() => done()));
});

describe("event streams on Node", () => {
  it("writes the messages in order, with the headers set before, and ends when run returns", async () => {
    const response = await fetch(`${base}/three`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(response.headers.get("x-request-id")).toBe("r-1");
    expect(await response.text()).toBe(
      [1, 2, 3].map((n) => `event: revision\ndata: {"n":${n}}\nid: ${n}\n\n`).join(""),
    );
  });

  it("aborts the stream's signal when the client goes away", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/held`, { signal: controller.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(": open\n\n");
    controller.abort();
    for (let i = 0; i < 100 && abortedSignals === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(abortedSignals).toBe(1);
    release();
  });

  it("refuses a field of more than one line", () => {
    expect(() => sseMessage("revision", "a\nb")).toThrow(/single line/);
  });
});
