import { Hono } from "hono";

/**
 * /healthz: the process runs. /readyz: the node serves: its log is replayed and, in a cluster, it
 * knows a live leader and is at most a thousand entries from applying what it knows to be committed
 * (503 otherwise; see RaftNode.isReady).
 */
export function healthRoutes(ready: () => boolean) {
  return new Hono()
    .get("/healthz", (c) => c.json({ status: "ok" }))
    .get("/readyz", (c) => (ready() ? c.json({ status: "ready" }) : c.json({ status: "starting" }, 503)));
}
