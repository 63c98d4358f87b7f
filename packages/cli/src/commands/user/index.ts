import type { Command } from "commander";
import type { Context } from "../../context.js";
import { runUserCreate } from "./create.js";
import { runUserDelete } from "./delete.js";
import { runUserList } from "./list.js";
import { type PasswdOptions, runUserPasswd } from "./passwd.js";

export function register(program: Command, context: () => Context): void {
  const user = program.command("user").description("users (cluster admins only)");
  user
    .command("list")
    .description("list users")
    .action(async () => {
      process.exitCode = await runUserList(context());
    });
  user
    .command("create")
    .argument("<email>", "the user's email")
    .option("--password-stdin", "read the password from standard input (else asked in a terminal)")
    .option("--cluster-admin", "make the user a cluster admin")
    .description("create a user")
    .action(async (email: string, options: { passwordStdin?: boolean; clusterAdmin?: boolean }) => {
      process.exitCode = await runUserCreate(email, options, context());
    });
  user
    .command("delete")
    .argument("<id>", "user id (see cfg user list)")
    .option("-y, --yes", "do not ask for confirmation (required when not in a terminal)")
    .description("delete a user with their roles and tokens")
    .action(async (id: string, options: { yes?: boolean }) => {
      process.exitCode = await runUserDelete(id, options, context());
    });
  user
    .command("passwd")
    .argument("[id]", "a user id, to set their password as a cluster admin (default: your own)")
    .option(
      "--password-stdin",
      "read the passwords from standard input: current then new, one a line (just the new one with an id)",
    )
    .description("change your password (or set a user's); the sessions end")
    .action(async (id: string | undefined, options: PasswdOptions) => {
      process.exitCode = await runUserPasswd(id, options, context());
    });
}
