import type { Command } from "commander";
import type { Context } from "../../context.js";
import { register as registerAdd } from "./add.js";
import { register as registerMembers } from "./members.js";
import { register as registerRemove } from "./remove.js";
import { register as registerSnapshot } from "./snapshot.js";
import { register as registerTransfer } from "./transfer.js";

export function register(program: Command, context: () => Context): void {
  const cluster = program
    .command("cluster")
    .description("see and change the cluster's members, move its leadership, take snapshots");
  registerMembers(cluster, context);
  registerAdd(cluster, context);
  registerRemove(cluster, context);
  registerTransfer(cluster, context);
  registerSnapshot(cluster, context);
}
