import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export interface PasswdOptions {
  passwordStdin?: boolean;
}

/** Two lines of standard input (current, then new) or two prompts in a terminal. */
async function readPasswords(context: Context, options: PasswdOptions, count: 1 | 2): Promise<string[]> {
  const questions = count === 2 ? ["Current password", "New password"] : ["New password"];
  if (options.passwordStdin) {
    if (!context.io.readStdin) throw new UsageError("--password-stdin needs standard input");
    const lines = (await context.io.readStdin()).split(/\r?\n/).slice(0, count);
    if (lines.length < count || lines.some((l) => !l)) {
      throw new UsageError(
        `--password-stdin: give ${count === 2 ? "the current and the new password, one a line" : "the new password"}`,
      );
    }
    return lines;
  }
  if (!context.io.stdinIsTTY || !context.io.ask) {
    throw new UsageError("not in a terminal: pass the passwords on standard input with --password-stdin");
  }
  const answers: string[] = [];
  for (const q of questions) answers.push(await context.io.ask(`${q}: `, true));
  return answers;
}

/** Your own password (no ID), or, as a cluster admin, another user's. Their sessions end. */
export async function runUserPasswd(
  id: string | undefined,
  options: PasswdOptions,
  context: Context,
): Promise<number> {
  const client = context.client();
  let result: { updated: string; sessionsEnded: number };
  if (id) {
    const [password] = await readPasswords(context, options, 1);
    result = (
      await client.call<typeof result>("PUT", `/v1/users/${encodeURIComponent(id)}/password`, {
        body: { password },
      })
    ).body;
  } else {
    const [currentPassword, password] = await readPasswords(context, options, 2);
    result = (
      await client.call<typeof result>("PUT", "/v1/auth/password", { body: { currentPassword, password } })
    ).body;
  }
  if (context.json) printJson(context, result);
  else
    context.io.out(
      `Password changed; ${result.sessionsEnded} session(s) ended. Log in again with: cfg login\n`,
    );
  return EXIT.ok;
}
