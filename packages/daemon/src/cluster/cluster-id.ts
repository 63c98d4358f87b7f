import { createHash } from "node:crypto";

/** The id of a cluster founded with this secret and these founding members. */
export function deriveClusterId(secret: string, founders: string[]): string {
  return createHash("sha256")
    .update(`${secret}\n${[...founders].sort().join(",")}`)
    .digest("hex")
    .slice(0, 16);
}
