import { createServer, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { ApiClient } from "./client.js";

// A server that takes connections and never answers.
const sockets: Socket[] = [];
const silent = createServer((socket) => sockets.push(socket));
await new Promise<void>((listening) => silent.listen(0, "127.0.0.1", listening));
const { port } = silent.address() as { port: number };
afterAll(() => {
  for (const socket of sockets) socket.destroy();
  silent.close();
});

describe("ApiClient", () => {
  it("close() drops a request still on its way instead of waiting for it", async () => {
    const client = new ApiClient({ server: `http://127.0.0.1:${port}`, timeoutMs: 20_000 });
    const asked = client.get("/v1/projects/shop/manifest");
    asked.catch(() => {});
    for (let i = 0; i < 100 && sockets.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sockets).toHaveLength(1);
    const started = performance.now();
    await client.close();
    expect(performance.now() - started).toBeLessThan(5_000);
    await expect(asked).rejects.toThrow();
  });
});
