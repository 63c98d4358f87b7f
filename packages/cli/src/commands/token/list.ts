import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";
import type { Token } from "./api.js";

export async function runTokenList(context: Context): Promise<number> {
  const list = await context.client().get<{ items: Token[] }>("/v1/tokens");
  if (context.json) printJson(context, list);
  else {
    const rows = [["ID", "NAME", "CREATED", "EXPIRES", "REVOKED"]];
    for (const t of list.items)
      rows.push([t.id, t.name, t.createdAt, t.expiresAt ?? "never", t.revokedAt ?? ""]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}
