import type { Context } from "../../context.js";
import { EXIT } from "../../exit-codes.js";
import { confirmOrRequireYes, printJson } from "../shared.js";

export async function runUserDelete(
  id: string,
  options: { yes?: boolean },
  context: Context,
): Promise<number> {
  await confirmOrRequireYes(
    context,
    options.yes,
    `Delete user ${id} with their roles and tokens?`,
    "cfg user delete",
  );
  const result = await context.client().delete<{ deleted: string }>(`/v1/users/${encodeURIComponent(id)}`);
  if (context.json) printJson(context, result);
  else context.io.out(`Deleted user ${result.deleted}.\n`);
  return EXIT.ok;
}
