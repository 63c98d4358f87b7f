import type { Command } from "commander";
import type { Context } from "../../context.js";
import { register as registerCreate } from "./create.js";
import { register as registerDelete } from "./delete.js";
import { register as registerList } from "./list.js";

export function register(program: Command, context: () => Context): void {
  const project = program.command("project").description("create, list and delete projects");
  registerCreate(project, context);
  registerList(project, context);
  registerDelete(project, context);
}
