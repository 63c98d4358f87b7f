import type { Command } from "commander";
import type { Context } from "../../context.js";
import type { ProjectOptions } from "../shared.js";
import { runMemberList } from "./list.js";
import { runMemberRemove } from "./remove.js";
import { runMemberSet } from "./set.js";

export function register(program: Command, context: () => Context): void {
  const member = program
    .command("member")
    .description("project members and their roles (viewer, editor, admin)");
  const scoped = (c: Command) =>
    c
      .option("--project <name>", "project (default: the target's)")
      .option("--target <name>", "target in cfg.json");
  scoped(member.command("list").description("list a project's members")).action(
    async (options: ProjectOptions) => {
      process.exitCode = await runMemberList(options, context());
    },
  );
  scoped(
    member
      .command("set")
      .argument("<user>", "user email or id")
      .argument("<role>", "viewer, editor or admin")
      .description("give a user a role in the project"),
  ).action(async (user: string, role: string, options: ProjectOptions) => {
    process.exitCode = await runMemberSet(user, role, options, context());
  });
  scoped(
    member.command("remove").argument("<user>", "user email or id").description("remove a member"),
  ).action(async (user: string, options: ProjectOptions) => {
    process.exitCode = await runMemberRemove(user, options, context());
  });
}
