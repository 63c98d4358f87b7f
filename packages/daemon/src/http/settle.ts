/**
 * Wait until every member has applied what this node has applied (bounded): a revocation answered
 * after this holds on every node that answers, not only on the leader. Members report their
 * applied index on GET /v1/cluster; the cluster admin token (derived from the secret) reads it.
 */
import type { ClusterView } from "@cfguardian/shared";
import { clusterAdminToken } from "../auth/admin-token.js";

export function settleEverywhere(view: () => ClusterView, secret: string, timeoutMs = 3_000) {
  const token = clusterAdminToken(secret);
  return async (): Promise<boolean> => {
    const self = view();
    const target = self.appliedIndex;
    const deadline = Date.now() + timeoutMs;
    const others = self.members.filter((m) => m.id !== self.nodeId && m.url);
    const settled = await Promise.all(
      others.map(async (member) => {
        while (Date.now() < deadline) {
          try {
            const response = await fetch(`${member.url}/v1/cluster`, {
              headers: { authorization: `Bearer ${token}` },
              signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
            });
            if (response.ok && ((await response.json()) as ClusterView).appliedIndex >= target) return true;
          } catch {
            // unreachable for now: it applies the revocation before it serves again
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        return false;
      }),
    );
    return settled.every(Boolean);
  };
}
