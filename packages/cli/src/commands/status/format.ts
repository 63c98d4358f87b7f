import type { MemberStatus, StatusReport } from "./collect.js";

export const MEMBER_COLUMNS = [
  "ID",
  "ADDRESS",
  "ROLE",
  "TERM",
  "COMMIT",
  "APPLIED",
  "LAG",
  "CONTACT",
  "HEALTH",
];

const dash = (value: number | null | undefined) =>
  value === null || value === undefined ? "-" : String(value);

export function contact(ms: number | null): string {
  if (ms === null) return "-";
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m`;
}

/** One member as the cells of a row (the leader's id marked with *). */
export function memberCells(m: MemberStatus): string[] {
  return [
    `${m.id}${m.isLeader ? " *" : ""}`,
    m.url,
    m.role ?? "-",
    dash(m.term),
    dash(m.commitIndex),
    dash(m.appliedIndex),
    dash(m.lag),
    contact(m.lastContactMs),
    m.health,
  ];
}

export function headline(report: StatusReport): string {
  const leader = report.leader ? `leader ${report.leader}` : "NO LEADER";
  const term = report.term ? `term ${report.term}` : "term -";
  const up = report.members.filter((m) => m.health !== "down").length;
  return `cfguardian: ${leader} · ${term} · ${up}/${report.members.length} members answering`;
}

export function pushCells(push: NonNullable<StatusReport["pushes"]>[number]): string[] {
  const message = (
    push.message ??
    push.git?.message ??
    (push.kind === "rollback" ? `rollback to ${push.rollbackTo}` : "")
  )
    .split("\n")[0]!
    .slice(0, 60);
  return [
    String(push.revision),
    push.createdAt.replace("T", " ").slice(0, 19),
    push.actor,
    push.git?.commit ? push.git.commit.slice(0, 8) : "-",
    String(push.changes.length),
    message,
  ];
}

export const PUSH_COLUMNS = ["REV", "WHEN (UTC)", "ACTOR", "COMMIT", "KEYS", "MESSAGE"];
