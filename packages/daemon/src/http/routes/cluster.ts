import { Hono } from "hono";
import type { AuthEnv } from "../middleware/auth.js";

/** What this node knows of the cluster: members, leader, term, commit and applied index. */
export interface ClusterView {
  nodeId: string;
  leader: string | null;
  term: number;
  role: string;
  commitIndex: number;
  appliedIndex: number;
  members: { id: string; url: string; voter: boolean }[];
}

export function clusterRoutes(view: () => ClusterView) {
  return new Hono<AuthEnv>().get("/v1/cluster", (c) => c.json(view()));
}
