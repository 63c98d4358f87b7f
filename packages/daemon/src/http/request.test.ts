import { createServer, type IncomingMessage, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { bodyText } from "./request.js";

/** A server on loopback whose every request's bodyText() outcome goes to `seen`. */
async function server(seen: (outcome: Promise<string>) => void) {
  const s = createServer((incoming: IncomingMessage, outgoing) => {
    const outcome = bodyText({ env: { incoming } } as unknown as Context);
    seen(outcome);
    outcome.then(
      (text) => outgoing.end(`got ${text.length}`),
      () => outgoing.destroy(),
    );
  });
  await new Promise<void>((done) => s.listen(0, "127.0.0.1", done));
  return { port: (s.address() as AddressInfo).port, close: () => new Promise((done) => s.close(done)) };
}

describe("bodyText on Node", () => {
  it("reads a body that comes in several chunks, multi-byte characters split between them", async () => {
    let outcome!: Promise<string>;
    const s = await server((o) => {
      outcome = o;
    });
    try {
      const text = `${"é".repeat(40_000)}z`;
      const body = Buffer.from(text);
      const req = request({
        port: s.port,
        host: "127.0.0.1",
        method: "PUT",
        headers: { "content-length": body.length },
      });
      req.on("error", () => {});
      req.write(body.subarray(0, 7)); // ends inside a two-byte character
      await new Promise((r) => setTimeout(r, 20));
      req.end(body.subarray(7));
      expect(await outcome).toBe(text);
    } finally {
      await s.close();
    }
  });

  it("fails, instead of waiting forever, when the caller goes away before the body's end", async () => {
    let outcome!: Promise<string>;
    const s = await server((o) => {
      outcome = o;
    });
    try {
      const req = request({
        port: s.port,
        host: "127.0.0.1",
        method: "PUT",
        headers: { "content-length": 100 },
      });
      req.on("error", () => {});
      req.write("only ten b");
      await new Promise((r) => setTimeout(r, 50));
      req.destroy();
      await expect(outcome).rejects.toThrow(/aborted|cut off/);
    } finally {
      await s.close();
    }
  });
});
