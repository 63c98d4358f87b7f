import type { ChangeOp, GitProvenance, JsonValue, SchemaBinding } from "@cfguardian/shared";
import type { AuditDraft } from "../audit/audit-scope.js";
import type { MetadataOp } from "../metadata/embedded/ops.js";

/**
 * What every command carries besides its payload. `at` and `actor` are fixed when the command is
 * proposed, so applying a command never reads the clock: every node applies it identically.
 */
export interface CommandMeta {
  /** Unique per proposal: lets the proposer find its outcome. */
  id: string;
  actor: string;
  /** ISO time of the proposal. */
  at: string;
  /**
   * The audit record of the request that proposed this command (embedded metadata): written with
   * the command's result in the same transaction as the command.
   */
  audit?: AuditDraft;
}

export type CommandBody =
  | { type: "create-project"; name: string }
  | { type: "delete-project"; project: string }
  | {
      type: "push";
      project: string;
      baseRevision: number;
      changes: ChangeOp[];
      schemas?: SchemaBinding[];
      git?: GitProvenance | null;
      message?: string | null;
    }
  | {
      type: "rollback";
      project: string;
      toRevision: number;
      keys?: string[];
      baseRevision?: number;
      message?: string | null;
    }
  | { type: "put-key"; project: string; key: string; value: JsonValue; ifMatch?: number }
  | { type: "delete-key"; project: string; key: string; ifMatch?: number }
  | { type: "put-schema"; project: string; binding: SchemaBinding }
  | { type: "delete-schema"; project: string; name: string }
  /** Embedded metadata (users, members, API keys, tokens, signing keys, audit): see metadata/embedded. */
  | { type: "metadata"; op: MetadataOp };

export type Command = CommandBody & { meta: CommandMeta };

/** The result of applying one command: a value for the caller, or a coded error; never both. */
export type ApplyOutcome =
  | { ok: true; value: unknown }
  | {
      ok: false;
      code: import("@cfguardian/shared").ErrorCode;
      message: string;
      extensions?: Record<string, unknown>;
    };
