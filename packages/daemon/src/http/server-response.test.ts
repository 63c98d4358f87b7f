import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { CfgResponse } from "./server-response.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

const pick = (headers: Headers, ...names: string[]) =>
  Object.fromEntries(names.map((name) => [name, headers.get(name)]));

/** A node:http server answering with CfgResponse; the answer's status and raw headers. */
async function answer(handle: (res: CfgResponse) => void) {
  server = createServer({ ServerResponse: CfgResponse }, (_req, res) => {
    try {
      handle(res as CfgResponse);
    } catch (error) {
      res.writeHead(500, { "x-error": (error as { code?: string }).code ?? "unknown" });
    }
    res.end("body");
  });
  await new Promise<void>((done) => server!.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  expect(await response.text()).toBe("body");
  return { status: response.status, headers: response.headers };
}

describe("CfgResponse", () => {
  it("writes the headers set with add and addFirst together with writeHead's", async () => {
    const { status, headers } = await answer((res) => {
      res.addFirst(
        ["X-Frame-Options", "SAMEORIGIN", "Referrer-Policy", "no-referrer"],
        ["x-frame-options", "referrer-policy"],
      );
      res.add("X-Request-Id", "r1");
      res.writeHead(201, { "content-type": "application/json", "Content-Length": 4 });
    });
    expect(status).toBe(201);
    expect(
      pick(headers, "x-frame-options", "referrer-policy", "x-request-id", "content-type", "content-length"),
    ).toEqual({
      "x-frame-options": "SAMEORIGIN",
      "referrer-policy": "no-referrer",
      "x-request-id": "r1",
      "content-type": "application/json",
      "content-length": "4",
    });
  });

  const cases: [string, (res: CfgResponse) => void, Record<string, string>][] = [
    [
      "lets a later header of the same name, in any case, replace an earlier one",
      (res) => {
        res.addFirst(["X-Frame-Options", "SAMEORIGIN"], ["x-frame-options"]);
        res.add("x-frame-options", "DENY");
        res.add("Content-Type", "text/plain");
        res.add("ETag", '"1"');
        res.add("etag", '"2"');
        res.writeHead(200, { "content-type": "application/json" });
      },
      { "x-frame-options": "DENY", etag: '"2"', "content-type": "application/json" },
    ],
    [
      "adds headers after others were added, as add would",
      (res) => {
        res.add("X-Frame-Options", "DENY");
        res.addFirst(
          ["X-Frame-Options", "SAMEORIGIN", "X-XSS-Protection", "0"],
          ["x-frame-options", "x-xss-protection"],
        );
        res.writeHead(200);
      },
      { "x-frame-options": "SAMEORIGIN", "x-xss-protection": "0" },
    ],
    [
      "merges with headers set by setHeader, writeHead's winning",
      (res) => {
        res.add("X-Request-Id", "r1");
        res.add("Cache-Control", "no-cache");
        res.setHeader("X-Other", "o");
        res.writeHead(200, { "cache-control": "no-store" });
      },
      { "x-request-id": "r1", "x-other": "o", "cache-control": "no-store" },
    ],
  ];
  it.each(cases)("%s", async (_, handle, expected) => {
    const { headers } = await answer(handle);
    expect(pick(headers, ...Object.keys(expected))).toEqual(expected);
  });

  it("takes writeHead's headers as a list of pairs, and a status message", async () => {
    const { status, headers } = await answer((res) => {
      res.add("X-Request-Id", "r1");
      res.writeHead(202, "Taken", ["X-List", "yes"]);
    });
    expect(status).toBe(202);
    expect(pick(headers, "x-request-id", "x-list")).toEqual({ "x-request-id": "r1", "x-list": "yes" });
  });

  it("writes its headers when the body is written without writeHead", async () => {
    const { status, headers } = await answer((res) => {
      res.add("X-Request-Id", "r1");
      res.statusCode = 203;
    });
    expect(status).toBe(203);
    expect(headers.get("x-request-id")).toBe("r1");
  });

  it("refuses an invalid header when it is set, as setHeader does", async () => {
    const { status, headers } = await answer((res) => res.add("X-Request-Id", "a\r\nInjected: yes"));
    expect(status).toBe(500);
    expect(pick(headers, "x-error", "injected", "x-request-id")).toEqual({
      "x-error": "ERR_INVALID_CHAR",
      injected: null,
      "x-request-id": null,
    });
  });
});
