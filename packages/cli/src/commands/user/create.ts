import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { readPassword } from "../auth-input.js";
import { printJson } from "../shared.js";
import type { User } from "./api.js";

export async function runUserCreate(
  email: string,
  options: { passwordStdin?: boolean; clusterAdmin?: boolean },
  context: Context,
): Promise<number> {
  const password = await readPassword(context, options.passwordStdin, `Password for ${email}`);
  const user = await context
    .client()
    .post<User>("/v1/users", { email, password, clusterAdmin: options.clusterAdmin === true });
  if (context.json) printJson(context, user);
  else
    context.io.out(
      `Created user ${user.email} (${user.id}). Give them a role with: cfg member set ${user.email} viewer --project P\n`,
    );
  return EXIT.ok;
}
