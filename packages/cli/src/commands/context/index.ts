import type { Command } from "commander";
import type { Context } from "../../context.js";
import { runContextList } from "./list.js";
import { runContextUse } from "./use.js";

export function register(program: Command, context: () => Context): void {
  const group = program
    .command("context")
    .description("servers you have logged in to, like kubectl contexts");
  group
    .command("list")
    .description("list contexts; * marks the current one")
    .action(() => {
      process.exitCode = runContextList(context());
    });
  group
    .command("use")
    .argument("<name>", "context name")
    .description("make a context the current one")
    .action((name: string) => {
      process.exitCode = runContextUse(name, context());
    });
}
