import type { Command } from "commander";
import { contextNameFor, loadConfig, saveConfig } from "../config-store.js";
import type { Context } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { readPassword, readValue } from "./auth-input.js";
import { printJson } from "./shared.js";

export interface LoginOptions {
  email?: string;
  passwordStdin?: boolean;
  context?: string;
  bootstrapCode?: string;
}

interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: { id: string; email: string; clusterAdmin: boolean };
}

/**
 * Log in to --server (or CFG_SERVER, the current context's server, the default) and save the
 * session as a context (named host:port unless --context), which becomes the current one.
 * With --bootstrap-code, first create the first cluster admin with the code from cfgd's log.
 */
export async function runLogin(options: LoginOptions, context: Context): Promise<number> {
  const client = context.client();
  const email = await readValue(context, options.email, "Email", "--email");
  const password = await readPassword(context, options.passwordStdin);
  if (options.bootstrapCode) {
    await client.post("/v1/auth/bootstrap", { code: options.bootstrapCode, email, password });
    context.log(`Created the first cluster admin ${email.toLowerCase()}.`);
  }
  const result = await client.post<LoginResult>("/v1/auth/login", { email, password });
  const config = loadConfig(context.io.env);
  const name = options.context ?? contextNameFor(client.server);
  config.contexts[name] = {
    server: client.server,
    email: result.user.email,
    accessToken: result.accessToken,
    refreshToken: result.refreshToken,
    expiresAt: new Date(context.io.now().getTime() + result.expiresIn * 1000).toISOString(),
  };
  config.current = name;
  saveConfig(context.io.env, config);
  if (context.json) printJson(context, { context: name, server: client.server, user: result.user });
  else context.io.out(`Logged in to ${client.server} as ${result.user.email} (context ${name}).\n`);
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("login")
    .description("log in to a cfgd server and save the session as the current context")
    .option("--email <email>", "your email (asked in a terminal)")
    .option("--password-stdin", "read the password from standard input (CI)")
    .option("--context <name>", "name of the context to save (default: the server's host:port)")
    .option("--bootstrap-code <code>", "first start: create the first admin with the code in cfgd's log")
    .action(async (options: LoginOptions) => {
      process.exitCode = await runLogin(options, context());
    });
}
