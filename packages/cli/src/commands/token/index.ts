import type { Command } from "commander";
import type { Context } from "../../context.js";
import { runTokenCreate } from "./create.js";
import { runTokenList } from "./list.js";
import { runTokenRevoke } from "./revoke.js";

export function register(program: Command, context: () => Context): void {
  const token = program.command("token").description("your long-lived tokens for CI");
  token
    .command("create")
    .argument("<name>", "a name for the token")
    .option("--expires-in-days <n>", "expire after this many days (default: never)")
    .description("create a token (printed once)")
    .action(async (name: string, options: { expiresInDays?: string }) => {
      process.exitCode = await runTokenCreate(name, options, context());
    });
  token
    .command("list")
    .description("list your tokens")
    .action(async () => {
      process.exitCode = await runTokenList(context());
    });
  token
    .command("revoke")
    .argument("<id>", "token id (see cfg token list)")
    .description("revoke a token at once")
    .action(async (id: string) => {
      process.exitCode = await runTokenRevoke(id, context());
    });
}
