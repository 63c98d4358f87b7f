import type { ClusterMember } from "@cfguardian/shared";
import type { Command } from "commander";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { confirmOrRequireYes, printJson } from "../shared.js";

export async function runClusterRemove(
  id: string,
  options: { yes?: boolean },
  context: Context,
): Promise<number> {
  const client = context.client();
  await confirmOrRequireYes(
    context,
    options.yes,
    `Remove ${id} from the cluster at ${client.server}? It stops receiving the log.`,
    "cfg cluster remove",
  );
  const result = await client.delete<{ removed: string; members: ClusterMember[] }>(
    `/v1/cluster/members/${encodeURIComponent(id)}`,
  );
  if (context.json) printJson(context, result);
  else {
    context.io.out(
      `Removed ${id}. Members: ${result.members.map((m) => `${m.id}${m.voter ? "" : " (learner)"}`).join(", ")}.\n`,
    );
  }
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("remove")
    .argument("<id>", "the member's node id")
    .description("remove a member (the leader too: it steps down and the others elect a new one)")
    .option("-y, --yes", "do not ask for confirmation (required when not in a terminal)")
    .action(async (id: string, options: { yes?: boolean }) => {
      process.exitCode = await runClusterRemove(id, options, context());
    });
}
