import type { Command } from "commander";
import { contextForServer, loadConfig, saveConfig } from "../config-store.js";
import { type Context, resolveServer } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { printJson } from "./shared.js";

/** End the session of the context for the server (on the server too) and forget its tokens. */
export async function runLogout(context: Context): Promise<number> {
  const server = resolveServer(context.globals, context.io.env);
  const config = loadConfig(context.io.env);
  const found = contextForServer(config, server);
  if (!found?.[1].accessToken) {
    context.io.out(`Not logged in to ${server}.\n`);
    return EXIT.ok;
  }
  const [name, saved] = found;
  try {
    await context.client(saved.server).post("/v1/auth/logout", { refreshToken: saved.refreshToken });
  } catch (error) {
    context.warn(
      `the server did not end the session (${(error as Error).message}); forgetting it here anyway`,
    );
  }
  config.contexts[name] = { server: saved.server };
  saveConfig(context.io.env, config);
  if (context.json) printJson(context, { context: name, loggedOut: true });
  else context.io.out(`Logged out of ${saved.server} (context ${name}).\n`);
  return EXIT.ok;
}

export function register(program: Command, context: () => Context): void {
  program
    .command("logout")
    .description("end the session with the server and forget its tokens")
    .action(async () => {
      process.exitCode = await runLogout(context());
    });
}
