import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface GateProxy {
  url: string;
  /** Resolves when a request matching the gate arrived and is being held. */
  held: Promise<void>;
  /** Let the held request through. */
  open(): void;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy to a cfgd that holds the first request matching `gate` until open():
 * lets a test put another client's write between a plan and its push, deterministically.
 */
export async function gateProxy(
  target: string,
  gate: (method: string, path: string) => boolean,
): Promise<GateProxy> {
  let release!: () => void;
  const released = new Promise<void>((done) => {
    release = done;
  });
  let markHeld!: () => void;
  const held = new Promise<void>((done) => {
    markHeld = done;
  });
  let gated = false;
  const upstream = new URL(target);
  const server: Server = createServer(async (req, res) => {
    if (!gated && gate(req.method ?? "GET", req.url ?? "/")) {
      gated = true;
      markHeld();
      await released;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    held,
    open: release,
    close: () =>
      new Promise<void>((done) => {
        release();
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
