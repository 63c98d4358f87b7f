import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export async function runTokenRevoke(id: string, context: Context): Promise<number> {
  const result = await context.client().delete<{ revoked: string }>(`/v1/tokens/${encodeURIComponent(id)}`);
  if (context.json) printJson(context, result);
  else context.io.out(`Revoked token ${result.revoked}.\n`);
  return EXIT.ok;
}
