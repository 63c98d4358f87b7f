import { loadConfig, saveConfig } from "../../config-store.js";
import type { Context } from "../../context.js";
import { UsageError } from "../../errors.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";

export function runContextUse(name: string, context: Context): number {
  const config = loadConfig(context.io.env);
  if (!config.contexts[name]) {
    throw new UsageError(
      `no context ${name}; see 'cfg context list' (cfg login --context ${name} makes one)`,
    );
  }
  config.current = name;
  saveConfig(context.io.env, config);
  if (context.json) printJson(context, { current: name });
  else context.io.out(`Now using context ${name} (${config.contexts[name].server}).\n`);
  return EXIT.ok;
}
