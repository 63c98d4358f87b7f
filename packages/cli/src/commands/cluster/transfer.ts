import type { Command } from "commander";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export async function runClusterTransfer(to: string, context: Context): Promise<number> {
  const result = await context.client().post<{ leader: string }>("/v1/cluster/transfer-leadership", { to });
  if (context.json) printJson(context, result);
  else context.io.out(`Leadership moved to ${result.leader}.\n`);
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("transfer")
    .argument("<member>", "id of the voting member to lead")
    .description("hand leadership to another member (before maintenance of the leader)")
    .action(async (to: string) => {
      process.exitCode = await runClusterTransfer(to, context());
    });
}
