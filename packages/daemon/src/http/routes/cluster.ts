import { CfgError, type ClusterView } from "@cfguardian/shared";
import { Hono } from "hono";
import type { AuthEnv } from "../middleware/auth.js";
import { readJson, requireObject } from "../request.js";

export interface ClusterControl {
  view(): ClusterView;
  /** Move leadership to `to`; resolves with the leader afterwards. Only called on the leader. */
  transferLeadership(to: string): Promise<{ leader: string | null }>;
}

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
    });
}
