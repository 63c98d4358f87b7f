import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";
import type { User } from "./api.js";

export async function runUserList(context: Context): Promise<number> {
  const list = await context.client().get<{ items: User[] }>("/v1/users");
  if (context.json) printJson(context, list);
  else {
    const rows = [["ID", "EMAIL", "CLUSTER ADMIN", "CREATED"]];
    for (const u of list.items) rows.push([u.id, u.email, u.clusterAdmin ? "yes" : "", u.createdAt]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}
