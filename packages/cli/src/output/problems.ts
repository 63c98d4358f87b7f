import type { Context } from "../context.js";
import type { FileProblem } from "../repo/json-file.js";

function escapeAnnotation(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(text: string): string {
  return escapeAnnotation(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** `::error file=…,line=…,col=…::message`: a GitHub Actions annotation on the pull request. */
export function githubAnnotation(problem: FileProblem): string {
  return `::error file=${escapeProperty(problem.file)},line=${problem.line},col=${problem.column}::${escapeAnnotation(problem.message)}`;
}

/** Print every local problem as file:line:column: message (and as annotations under Actions). */
export function printProblems(context: Context, problems: FileProblem[]): void {
  const { palette: p, io } = context;
  for (const problem of problems) {
    io.err(
      `${p.bold(`${problem.file}:${problem.line}:${problem.column}`)}: ${p.red("error")}: ${problem.message}\n`,
    );
  }
  if (io.env.GITHUB_ACTIONS === "true") {
    for (const problem of problems) io.out(`${githubAnnotation(problem)}\n`);
  }
}
