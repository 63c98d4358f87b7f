import type { Command } from "commander";
import type { Context } from "../../context.js";
import { register as registerMembers } from "./members.js";
import { register as registerTransfer } from "./transfer.js";

export function register(program: Command, context: () => Context): void {
  const cluster = program.command("cluster").description("see the cluster's members and move its leadership");
  registerMembers(cluster, context);
  registerTransfer(cluster, context);
}
