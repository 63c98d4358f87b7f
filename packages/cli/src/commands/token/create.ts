import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { printJson } from "../shared.js";
import type { Token } from "./api.js";

export async function runTokenCreate(
  name: string,
  options: { expiresInDays?: string },
  context: Context,
): Promise<number> {
  const body: Record<string, unknown> = { name };
  if (options.expiresInDays !== undefined) body.expiresInDays = Number(options.expiresInDays);
  const token = await context.client().post<Token & { token: string }>("/v1/tokens", body);
  if (context.json) printJson(context, token);
  else {
    context.io.out(`${token.token}\n`);
    context.log(
      `Token ${token.name} (${token.id}) acts as you. It is shown once: store it as CFG_TOKEN in your CI secrets.`,
    );
  }
  return EXIT.ok;
}
