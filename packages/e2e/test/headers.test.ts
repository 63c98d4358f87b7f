import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_SECURITY_HEADERS, SECURITY_HEADERS } from "../../daemon/src/http/middleware/response-headers.js";
import { type Daemon, killAll, startDaemon } from "./helpers/processes.js";

let daemon: Daemon;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(killAll);

/** The headers a real cfgd writes (they go straight onto Node's response, not through Hono's). */
describe("answer headers of a real cfgd", () => {
  it("every API answer, success or error, carries the API's security headers and a request id", async () => {
    const auth = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
    const created = await fetch(`${daemon.url}/v1/projects`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "hdr" }),
    });
    expect(created.status).toBe(201);
    const put = await fetch(`${daemon.url}/v1/projects/hdr/configs/a`, {
      method: "PUT",
      headers: { ...auth, "x-request-id": "req-123" },
      body: '{"n":1}',
    });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe('"1"');
    expect(put.headers.get("x-cfg-revision")).toBe("1");
    expect(put.headers.get("x-request-id")).toBe("req-123");
    const got = await fetch(`${daemon.url}/v1/projects/hdr/configs/a`, { headers: auth });
    const notModified = await fetch(`${daemon.url}/v1/projects/hdr/configs/a`, {
      headers: { ...auth, "if-none-match": '"1"' },
    });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe('"1"');
    const unauthorized = await fetch(`${daemon.url}/v1/projects/hdr/configs/a`);
    expect(unauthorized.status).toBe(401);
    for (const response of [created, put, got, notModified, unauthorized]) {
      for (const [name, value] of API_SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
      // The ones that act only on a page a browser renders are left out of an API's answers.
      for (const [name] of SECURITY_HEADERS.filter((h) => !API_SECURITY_HEADERS.includes(h)))
        expect(response.headers.get(name), name).toBeNull();
      expect(response.headers.get("x-request-id")).toMatch(/\S/);
    }
    expect(API_SECURITY_HEADERS.map(([name]) => name)).toEqual([
      "Cross-Origin-Resource-Policy",
      "Strict-Transport-Security",
      "X-Content-Type-Options",
      "X-Frame-Options",
    ]);
    expect(await got.json()).toMatchObject({ key: "a", value: { n: 1 }, version: 1 });
  });

  it("the HTML page of the API (GET /docs) carries every security header of a page", async () => {
    const page = await fetch(`${daemon.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    for (const [name, value] of SECURITY_HEADERS) expect(page.headers.get(name), name).toBe(value);
    await page.text();
  });
});

describe("a request body read from the socket", () => {
  it("that ends before its Content-Length changes nothing, and the node goes on serving", async () => {
    const auth = { authorization: `Bearer ${daemon.token}`, "content-type": "application/json" };
    await fetch(`${daemon.url}/v1/projects`, { method: "POST", headers: auth, body: '{"name":"cut"}' });
    const { hostname, port } = new URL(daemon.url);
    // Headers that promise 100 bytes, 10 of them, then the connection closes.
    await new Promise<void>((done, fail) => {
      const socket = connect(Number(port), hostname, () => {
        socket.end(
          `PUT /v1/projects/cut/configs/a HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"n":12345`,
        );
      });
      socket.on("error", fail);
      socket.on("close", () => done());
      socket.resume();
    });
    const missing = await fetch(`${daemon.url}/v1/projects/cut/configs/a`, { headers: auth });
    expect(missing.status).toBe(404);
    const put = await fetch(`${daemon.url}/v1/projects/cut/configs/a`, {
      method: "PUT",
      headers: auth,
      body: '{"n":1}',
    });
    expect(put.status).toBe(200);
  });
});
