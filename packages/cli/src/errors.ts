import { CfgError, type ErrorCode, type Problem } from "@cfguardian/shared";

/** An error in how `cfg` was called (flags, files); exit 1, message says what to do. */
export class UsageError extends CfgError {
  constructor(message: string) {
    super("bad_request", message);
    this.name = "UsageError";
  }
}

/** The user declined a confirmation or pressed Ctrl-C. */
export class InterruptedError extends Error {
  constructor(message = "Cancelled; nothing was changed.") {
    super(message);
    this.name = "InterruptedError";
  }
}

/** Local files failed validation; the problems were already printed. */
export class LocalValidationError extends Error {
  constructor(readonly count: number) {
    super(
      `${count} problem${count === 1 ? "" : "s"} found; nothing was sent. Fix them and run the command again.`,
    );
    this.name = "LocalValidationError";
  }
}

/** An error answer from cfgd, carrying its problem document. */
export class ApiError extends CfgError {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.code, problem.detail || problem.title, problem);
    this.name = "ApiError";
    this.problem = problem;
  }
}

export function cfgError(code: ErrorCode, message: string): CfgError {
  return new CfgError(code, message);
}
