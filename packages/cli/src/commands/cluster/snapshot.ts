import type { Command } from "commander";
import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export async function runClusterSnapshot(context: Context): Promise<number> {
  const result = await context
    .client()
    .post<{ index: number; bytes: number; compactedTo: number }>("/v1/cluster/snapshot", {});
  if (context.json) printJson(context, result);
  else {
    context.io.out(
      `Snapshot at index ${result.index} (${result.bytes} bytes); log compacted up to index ${result.compactedTo}.\n`,
    );
  }
  return EXIT.ok;
}

export function register(parent: Command, context: () => Context): void {
  parent
    .command("snapshot")
    .description(
      "snapshot the node at --server now and compact its log (nodes also do it every --snapshot-count entries)",
    )
    .action(async () => {
      process.exitCode = await runClusterSnapshot(context());
    });
}
