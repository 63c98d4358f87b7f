import { Command, Option } from "commander";
import { register as registerApiKey } from "./commands/apikey/index.js";
import { register as registerAudit } from "./commands/audit.js";
import { register as registerCluster } from "./commands/cluster/index.js";
import { register as registerContext } from "./commands/context/index.js";
import { register as registerDiff } from "./commands/diff.js";
import { register as registerGet } from "./commands/get.js";
import { register as registerHistory } from "./commands/history.js";
import { register as registerInit } from "./commands/init.js";
import { register as registerLogin } from "./commands/login.js";
import { register as registerLogout } from "./commands/logout.js";
import { register as registerMember } from "./commands/member/index.js";
import { register as registerProject } from "./commands/project/index.js";
import { register as registerPush } from "./commands/push.js";
import { register as registerRollback } from "./commands/rollback.js";
import { register as registerStatus } from "./commands/status/index.js";
import { register as registerToken } from "./commands/token/index.js";
import { register as registerUser } from "./commands/user/index.js";
import { register as registerValidate } from "./commands/validate.js";
import { register as registerWatch } from "./commands/watch.js";
import { type Context, type GlobalOptions, type Io, makeContext } from "./context.js";

export const VERSION = "0.1.0";

/** The whole `cfg` command tree; `context()` is built from the parsed global flags on first use. */
export function createProgram(io: Io): { program: Command; context: () => Context | undefined } {
  let context: Context | undefined;
  const program = new Command("cfg")
    .description("Validate, diff, push and roll back JSON configs kept in git against a cfguardian cluster.")
    .version(VERSION, "-V, --version")
    .option(
      "--server <url>",
      "cfgd to talk to (env CFG_SERVER; default: the target's server, else http://127.0.0.1:7070)",
    )
    .option("--token <token>", "access token (env CFG_TOKEN; else $XDG_CONFIG_HOME/cfg/credentials.json)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--no-color", "no colour (also NO_COLOR)")
    .option("--verbose", "print each HTTP request to stderr")
    .option("-C, --dir <path>", "repository directory holding cfg.json (default: search upward from here)")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();
  const getContext = () => {
    context ??= makeContext(program.opts<GlobalOptions>(), io);
    return context;
  };
  for (const register of [
    registerInit,
    registerValidate,
    registerDiff,
    registerPush,
    registerRollback,
    registerHistory,
    registerGet,
    registerProject,
    registerCluster,
    registerStatus,
    registerWatch,
    registerLogin,
    registerLogout,
    registerContext,
    registerUser,
    registerMember,
    registerApiKey,
    registerToken,
    registerAudit,
  ]) {
    register(program, getContext);
  }
  program.addHelpText(
    "after",
    `
Exit codes: 0 ok, 1 error, 2 differences (diff --exit-code), 3 conflict, 4 auth, 5 server unavailable, 130 cancelled.
Docs: packages/cli/README.md`,
  );
  return { program, context: () => context };
}
