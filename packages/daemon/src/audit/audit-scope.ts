/**
 * Carries a request's audit record into the command it proposes, so that a change and the record
 * of who made it are applied in one transaction of the replicated log (embedded metadata only):
 * one Raft round per mutation instead of two, and no window in which a change is on record without
 * its audit entry or the other way round.
 *
 * The audit middleware makes a scope for a request and hands it to the route with the caller
 * (`Actor`); the first config command proposed with it takes the record (ConfigService). A request
 * that proposes nothing (refused before it got there, a dry run) is recorded by the middleware
 * itself. The scope travels explicitly, not in an AsyncLocalStorage: that would turn on Node's
 * promise hooks for every promise of the process, reads included (3% of a leader's time).
 */
import type { NewAuditRecord } from "../metadata/port.js";

/** An audit record without its result: the state machine fills that in from the outcome. */
export type AuditDraft = Omit<NewAuditRecord, "result" | "detail">;

export class AuditScope {
  /** Whether a proposed command took the record. */
  taken = false;

  constructor(private readonly draft: () => AuditDraft | null) {}

  /** The request's audit record, once: the first command proposed gets it. */
  take(): AuditDraft | undefined {
    if (this.taken) return undefined;
    const draft = this.draft();
    if (!draft) return undefined;
    this.taken = true;
    return draft;
  }
}

/** Who asks for a change: a subject, and the request's audit scope when it has one. */
export type Actor = string | { subject: string; audit?: AuditScope | undefined };

export const subjectOf = (actor: Actor): string => (typeof actor === "string" ? actor : actor.subject);
export const auditOf = (actor: Actor): AuditScope | undefined =>
  typeof actor === "string" ? undefined : actor.audit;
