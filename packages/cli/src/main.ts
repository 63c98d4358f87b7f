/**
 * `cfg` entry point: parse, run one command, and map any error to an exit code in one place.
 */
import { CfgError } from "@cfguardian/shared";
import { CommanderError } from "commander";
import { type Context, type Io, makeContext } from "./context.js";
import { ApiError, InterruptedError, LocalValidationError } from "./errors.js";
import { EXIT, errorExitOverride, exitCodeFor } from "./exit-codes.js";
import { createProgram } from "./program.js";
import { askOnTerminal } from "./prompt.js";

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdoutIsTTY: process.stdout.isTTY === true,
  stdinIsTTY: process.stdin.isTTY === true,
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
  async confirm(question) {
    const { consola } = await import("consola");
    const answer = await consola.prompt(question, { type: "confirm", initial: false, cancel: "symbol" });
    return answer === true;
  },
  ask: (question, secret) => askOnTerminal(question, secret),
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

function reportError(error: unknown, context: Context): number {
  const override = errorExitOverride();
  const p = context.palette;
  if (error instanceof LocalValidationError) {
    if (!context.json) io.err(`${error.message}\n`);
    return override ?? EXIT.error;
  }
  if (error instanceof InterruptedError) {
    io.err(`${error.message}\n`);
    return EXIT.interrupted;
  }
  if (error instanceof CfgError) {
    if (context.json) {
      io.err(`${JSON.stringify(error instanceof ApiError ? error.problem : error.toProblem(), null, 2)}\n`);
    } else {
      io.err(`${p.red("error:")} ${error.message}\n`);
      const problem = error instanceof ApiError ? error.problem : undefined;
      for (const issue of problem?.errors ?? []) {
        io.err(
          `  ${issue.key || "(push)"} ${issue.pointer || "/"}: ${issue.message}${issue.schema ? ` (schema ${issue.schema})` : ""}\n`,
        );
      }
      if (problem?.conflicts?.length) {
        for (const c of problem.conflicts) {
          io.err(
            `  ${c.key}: changed at revision ${c.changedAtRevision} (now version ${c.currentVersion})\n`,
          );
        }
        io.err(
          "The live project moved since your plan. Run 'cfg diff' to see the new state, then push again.\n",
        );
      }
      if (error.code === "unauthorized") {
        io.err(
          "Log in with 'cfg login', or set CFG_TOKEN / pass --token (a local cfgd writes its admin token to <data-dir>/admin-token).\n",
        );
      }
    }
    return override ?? exitCodeFor(error.code);
  }
  io.err(`${p.red("error:")} ${(error as Error)?.stack ?? String(error)}\n`);
  return override ?? EXIT.error;
}

async function main(): Promise<number> {
  const { program, context } = createProgram(io);
  process.once("SIGINT", () => {
    io.err("\nInterrupted.\n");
    process.exit(EXIT.interrupted);
  });
  try {
    await program.parseAsync(process.argv);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      if (error.code === "commander.help") return EXIT.ok;
      return EXIT.error;
    }
    const ctx = context() ?? makeContext({ output: process.argv.includes("json") ? "json" : "text" }, io);
    return reportError(error, ctx);
  } finally {
    await context()?.close();
  }
}

process.exitCode = await main();
