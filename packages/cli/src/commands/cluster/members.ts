import type { ClusterView } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { table } from "../history.js";
import { printJson } from "../shared.js";

export async function runClusterMembers(context: Context): Promise<number> {
  const view = await context.client().get<ClusterView>("/v1/cluster");
  if (context.json) printJson(context, view);
  else {
    const rows = [["ID", "URL", "ROLE", "LEADER", "MATCH"]];
    for (const m of view.members) {
      const role = m.voter ? "voter" : m.promote ? "learner (to be promoted)" : "learner";
      rows.push([
        m.id,
        m.url,
        role,
        m.id === view.leader ? "*" : "",
        m.match === undefined ? "" : String(m.match),
      ]);
    }
    context.io.out(`${table(rows)}\n`);
    context.io.err(
      context.palette.dim(
        `# as seen by ${view.nodeId}: term ${view.term}, commit ${view.commitIndex}, applied ${view.appliedIndex}, snapshot ${view.snapshotIndex}, log from ${view.firstLogIndex}\n`,
      ),
    );
  }
  // Like etcdctl endpoint status: no leader is a failure a script should see.
  return view.leader ? EXIT.ok : EXIT.unavailable;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("members")
    .description("list the cluster's members and which one leads")
    .action(async () => {
      process.exitCode = await runClusterMembers(context());
    });
}
