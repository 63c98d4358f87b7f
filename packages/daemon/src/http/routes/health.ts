import { Hono } from "hono";

/** /healthz: the process runs. /readyz: the log is replayed and the node serves. */
export function healthRoutes(ready: () => boolean) {
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => (ready() ? c.json({ status: "ready" }) : c.json({ status: "starting" }, 503)));
}
