import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECURITY_HEADERS } from "../../daemon/src/http/middleware/response-headers.js";
import { type Daemon, killAll, startDaemon } from "./helpers/processes.js";

let daemon: Daemon;
beforeAll(async () => {
  daemon = await startDaemon();
});
afterAll(killAll);

/** The headers a real cfgd writes (they go straight onto Node's response, not through Hono's). */
describe("answer headers of a real cfgd", () => {
  it("every answer, success or error, carries the security headers and a request id", async () => {
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
      for (const [name, value] of SECURITY_HEADERS) expect(response.headers.get(name), name).toBe(value);
      expect(response.headers.get("x-request-id")).toMatch(/\S/);
    }
    expect(await got.json()).toMatchObject({ key: "a", value: { n: 1 }, version: 1 });
  });
});
