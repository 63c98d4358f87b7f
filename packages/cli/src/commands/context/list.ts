import { loadConfig } from "../../config-store.js";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";

export function runContextList(context: Context): number {
  const config = loadConfig(context.io.env);
  const items = Object.entries(config.contexts).map(([name, c]) => ({
    name,
    current: name === config.current,
    server: c.server,
    user: c.email ?? null,
    loggedIn: Boolean(c.accessToken),
  }));
  if (context.json) printJson(context, { current: config.current ?? null, items });
  else if (items.length === 0) context.io.out("No contexts yet. Create one with: cfg login --server URL\n");
  else {
    const rows = [["CURRENT", "NAME", "SERVER", "USER"]];
    for (const i of items)
      rows.push([i.current ? "*" : "", i.name, i.server, i.loggedIn ? (i.user ?? "") : "(logged out)"]);
    context.io.out(`${table(rows)}\n`);
  }
  return EXIT.ok;
}
