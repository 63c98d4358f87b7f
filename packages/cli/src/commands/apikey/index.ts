import type { Command } from "commander";
import type { Context } from "../../context.js";
import type { ProjectOptions } from "../shared.js";
import { runApiKeyCreate } from "./create.js";
import { runApiKeyList } from "./list.js";
import { runApiKeyRevoke } from "./revoke.js";

export function register(program: Command, context: () => Context): void {
  const apikey = program.command("apikey").description("read-only API keys of a project, for applications");
  const scoped = (c: Command) =>
    c
      .option("--project <name>", "project (default: the target's)")
      .option("--target <name>", "target in cfg.json");
  scoped(
    apikey
      .command("create")
      .argument("<name>", "a name for the key")
      .description("create a key (printed once)"),
  ).action(async (name: string, options: ProjectOptions) => {
    process.exitCode = await runApiKeyCreate(name, options, context());
  });
  scoped(apikey.command("list").description("list keys (never the keys themselves)")).action(
    async (options: ProjectOptions) => {
      process.exitCode = await runApiKeyList(options, context());
    },
  );
  scoped(
    apikey
      .command("revoke")
      .argument("<id>", "key id (see cfg apikey list)")
      .description("revoke a key at once"),
  ).action(async (id: string, options: ProjectOptions) => {
    process.exitCode = await runApiKeyRevoke(id, options, context());
  });
}
