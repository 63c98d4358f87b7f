import type { ErrorCode } from "@cfguardian/shared";

/** Every exit code `cfg` uses, in one place (documented in the CLI README). */
export const EXIT = {
  /** The command did what was asked. */
  ok: 0,
  /** Any error: bad usage, invalid files, a refused write, a server-side failure. */
  error: 1,
  /** `cfg diff --exit-code` found differences. */
  differences: 2,
  /** The live state moved under the plan (409): run `cfg diff` again. */
  conflict: 3,
  /** Missing, wrong or insufficient credentials (401/403). */
  auth: 4,
  /** The server could not be reached, is unavailable or has no quorum: retry later. */
  unavailable: 5,
  /** Interrupted by Ctrl-C or a declined confirmation. */
  interrupted: 130,
} as const;

let override: number | undefined;

/** Make every error exit with `code` (used by `cfg diff --exit-code`, whose contract is 0/2/1). */
export function setErrorExitOverride(code: number | undefined): void {
  override = code;
}

export function errorExitOverride(): number | undefined {
  return override;
}

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "conflict":
      return EXIT.conflict;
    case "unauthorized":
    case "forbidden":
      return EXIT.auth;
    case "unavailable":
    case "no_quorum":
    case "not_leader":
      return EXIT.unavailable;
    default:
      return EXIT.error;
  }
}
