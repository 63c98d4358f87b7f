import type { Context } from "../context.js";
import { UsageError } from "../errors.js";

/** A password from standard input (`--password-stdin`, first line) or a prompt in a terminal. */
export async function readPassword(
  context: Context,
  fromStdin: boolean | undefined,
  what = "Password",
): Promise<string> {
  if (fromStdin) {
    if (!context.io.readStdin) throw new UsageError("--password-stdin needs standard input");
    const password = (await context.io.readStdin()).split(/\r?\n/)[0] ?? "";
    if (!password) throw new UsageError("--password-stdin: standard input was empty");
    return password;
  }
  if (!context.io.stdinIsTTY || !context.io.ask) {
    throw new UsageError("not in a terminal: pass the password on standard input with --password-stdin");
  }
  return context.io.ask(`${what}: `, true);
}

/** A value from a flag, else a prompt in a terminal. */
export async function readValue(
  context: Context,
  value: string | undefined,
  question: string,
  flag: string,
): Promise<string> {
  if (value) return value;
  if (!context.io.stdinIsTTY || !context.io.ask) throw new UsageError(`not in a terminal: pass ${flag}`);
  return (await context.io.ask(`${question}: `, false)).trim();
}
