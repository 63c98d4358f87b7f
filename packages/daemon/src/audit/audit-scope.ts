/**
 * Carries a request's audit record into the command it proposes, so that a change and the record
 * of who made it are applied in one transaction of the replicated log (embedded metadata only):
 * one Raft round per mutation instead of two, and no window in which a change is on record without
 * its audit entry or the other way round.
 *
 * The audit middleware opens a scope around a request; the first config command proposed inside
 * it takes the record (ConfigService calls `takeAuditDraft`). A request that proposes nothing
 * (refused before it got there, a dry run) is recorded by the middleware itself.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { NewAuditRecord } from "../metadata/port.js";

/** An audit record without its result: the state machine fills that in from the outcome. */
export type AuditDraft = Omit<NewAuditRecord, "result" | "detail">;

interface Scope {
  draft: () => AuditDraft | null;
  taken: boolean;
}

const scopes = new AsyncLocalStorage<Scope>();

/** Run `fn` with an audit scope; returns whether a proposed command took the record. */
export async function withAuditScope(
  draft: () => AuditDraft | null,
  fn: () => Promise<void>,
): Promise<boolean> {
  const scope: Scope = { draft, taken: false };
  await scopes.run(scope, fn);
  return scope.taken;
}

/** The current request's audit record, once: the first command proposed gets it. */
export function takeAuditDraft(): AuditDraft | undefined {
  const scope = scopes.getStore();
  if (!scope || scope.taken) return undefined;
  const draft = scope.draft();
  if (!draft) return undefined;
  scope.taken = true;
  return draft;
}
