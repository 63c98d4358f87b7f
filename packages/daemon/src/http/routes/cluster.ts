import { CfgError, type ClusterView } from "@cfguardian/shared";
import { Hono } from "hono";
import type { AuthEnv } from "../middleware/auth.js";
import { readJson, requireObject } from "../request.js";

export interface ClusterControl {
  view(): ClusterView;
  /** Move leadership to `to`; resolves with the leader afterwards. Only called on the leader. */
  transferLeadership(to: string): Promise<{ leader: string | null }>;
  /** Add a learner (promoted to voter once caught up when `voter`). Only called on the leader. */
  addMember(id: string, url: string, voter: boolean): Promise<void>;
  removeMember(id: string): Promise<void>;
  /** Take a snapshot of state.db now and compact the log behind it (this node only). */
  snapshot(): { index: number; bytes: number; compactedTo: number };
}

const NODE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function clusterRoutes(control: ClusterControl) {
  return new Hono<AuthEnv>()
    .get("/v1/cluster", (c) => c.json(control.view()))
    .post("/v1/cluster/transfer-leadership", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      const to = body.to;
      const view = control.view();
      if (typeof to !== "string" || !view.members.some((m) => m.id === to && m.voter)) {
        throw new CfgError(
          "bad_request",
          `"to" must name a voting member: ${view.members
            .filter((m) => m.voter)
            .map((m) => m.id)
            .join(", ")}`,
        );
      }
      if (view.leader === to) return c.json({ leader: to });
      const result = await control.transferLeadership(to);
      if (result.leader !== to) {
        throw new CfgError(
          "unavailable",
          `leadership did not move to ${to} in time (leader: ${result.leader ?? "none"}); retry`,
        );
      }
      return c.json(result);
    })
    .post("/v1/cluster/members", async (c) => {
      const body = requireObject(await readJson(c), "the body");
      const { id, url } = body;
      const voter = body.voter ?? true;
      if (typeof id !== "string" || !NODE_ID.test(id)) {
        throw new CfgError(
          "bad_request",
          `"id" must be a node id like n4 (lowercase letters, digits and -; at most 63)`,
        );
      }
      if (typeof url !== "string" || !/^https?:\/\/[^/\s]+$/.test(url)) {
        throw new CfgError("bad_request", `"url" must be the node's base URL, like http://10.0.0.4:7070`);
      }
      if (typeof voter !== "boolean") throw new CfgError("bad_request", `"voter" must be true or false`);
      const existing = control.view().members.find((m) => m.id === id);
      if (existing && existing.url === url && existing.voter === voter) {
        return c.json({ member: existing, unchanged: true }); // already as asked: nothing to do
      }
      const clash = control.view().members.find((m) => m.id !== id && m.url === url);
      if (clash) throw new CfgError("conflict", `${url} is already the URL of ${clash.id}`);
      await control.addMember(id, url, voter);
      const member = control.view().members.find((m) => m.id === id);
      return c.json({ member: member ?? { id, url, voter: false } }, 201);
    })
    .delete("/v1/cluster/members/:id", async (c) => {
      await control.removeMember(c.req.param("id"));
      return c.json({ removed: c.req.param("id"), members: control.view().members });
    })
    .post("/v1/cluster/snapshot", (c) => c.json(control.snapshot()));
}
