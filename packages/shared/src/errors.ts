/**
 * The one closed table of error codes shared by `cfg` and `cfgd`. The daemon maps a code to an
 * HTTP status once (its error handler); the CLI maps it to an exit code once (its top-level catch).
 */
export const ERROR_CODES = {
  /** A push or write lost an optimistic-locking race: keys changed after the base revision. */
  conflict: 409,
  /** A value failed its JSON Schema, or a schema itself is invalid. Nothing was applied. */
  validation_failed: 422,
  /** The project, key, revision or route does not exist. */
  not_found: 404,
  /** No credentials, or credentials that are malformed, expired or revoked. */
  unauthorized: 401,
  /** Valid credentials without the role this route needs. */
  forbidden: 403,
  /** An `If-Match` precondition did not hold. Nothing was applied. */
  precondition_failed: 412,
  /** This node is not the leader and could not forward the request. */
  not_leader: 421,
  /** The cluster could not reach a quorum in time. The write may or may not commit later. */
  no_quorum: 503,
  /** The body or a value is larger than the configured limit. */
  payload_too_large: 413,
  /** The request is malformed: bad JSON, bad key or project name, bad parameter. */
  bad_request: 400,
  /** Too many requests; retry after the `Retry-After` header. */
  rate_limited: 429,
  /** A dependency (metadata store, peer) is unavailable; retry later. */
  unavailable: 503,
  /** A bug: the server failed in a way it did not expect. */
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code];
}

/** One schema violation: which key, where inside its value (a JSON pointer) and what is wrong. */
export interface ValidationIssue {
  key: string;
  /** JSON pointer into the value ("" for the whole document). */
  pointer: string;
  message: string;
  /** Name of the schema that was violated, when the problem comes from a schema. */
  schema?: string;
}

/** One key that changed after the push's base revision. */
export interface ConflictEntry {
  key: string;
  /** Version of the key now (0 when it was deleted). */
  currentVersion: number;
  /** Project revision at which the key last changed. */
  changedAtRevision: number;
}

/** An RFC 9457 problem document as cfgd sends it (`application/problem+json`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance?: string;
  /** Present with `validation_failed`. */
  errors?: ValidationIssue[];
  /** Present with `conflict`. */
  conflicts?: ConflictEntry[];
  /** Present with `not_leader`: where the leader is, if known. */
  leader?: { id: string; url: string } | null;
  [extension: string]: unknown;
}

/** Base of every error that carries a code from the table. */
export class CfgError extends Error {
  readonly code: ErrorCode;
  readonly extensions: Partial<Problem>;

  constructor(code: ErrorCode, message: string, extensions: Partial<Problem> = {}) {
    super(message);
    this.name = "CfgError";
    this.code = code;
    this.extensions = extensions;
  }

  get status(): number {
    return httpStatusFor(this.code);
  }

  toProblem(instance?: string): Problem {
    return {
      ...this.extensions,
      type: `https://cfguardian.dev/problems/${this.code.replaceAll("_", "-")}`,
      title: titleFor(this.code),
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
    };
  }
}

const TITLES: Record<ErrorCode, string> = {
  conflict: "Conflict",
  validation_failed: "Validation failed",
  not_found: "Not found",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  precondition_failed: "Precondition failed",
  not_leader: "Not the leader",
  no_quorum: "No quorum",
  payload_too_large: "Payload too large",
  bad_request: "Bad request",
  rate_limited: "Too many requests",
  unavailable: "Service unavailable",
  internal: "Internal error",
};

export function titleFor(code: ErrorCode): string {
  return TITLES[code];
}
