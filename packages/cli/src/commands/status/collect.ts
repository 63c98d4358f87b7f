/**
 * What `cfg status` shows, gathered from the nodes themselves: the membership from whichever node
 * answers first, then every member's own view (role, term, commit and applied index) asked of that
 * member directly, with a short timeout so that a dead member shows as down instead of stalling
 * the screen. The member list is remembered, so the status survives the death of the node it was
 * first pointed at.
 */
import type { ClusterView, RevisionRecord } from "@cfguardian/shared";
import { ApiClient } from "../../http/client.js";

export type Health = "ok" | "not ready" | "down";

export interface MemberStatus {
  id: string;
  url: string;
  voter: boolean;
  /** From the member's own answer; null when it did not answer. */
  role: string | null;
  term: number | null;
  commitIndex: number | null;
  appliedIndex: number | null;
  /** Entries the member has yet to apply, against the leader's commit index. */
  lag: number | null;
  /** Milliseconds since the leader last heard from it (the leader itself: 0). */
  lastContactMs: number | null;
  health: Health;
  error?: string;
  isLeader: boolean;
}

export interface StatusReport {
  at: Date;
  leader: string | null;
  term: number | null;
  members: MemberStatus[];
  project: string | null;
  pushes: RevisionRecord[] | null;
  /** Why a part is missing (no node answered, pushes not readable). */
  problems: string[];
}

export interface CollectorOptions {
  /** Where to start: the server the user named. */
  server: string;
  token: string | undefined;
  project?: string | null;
  timeoutMs?: number;
  pushes?: number;
}

export class StatusCollector {
  private readonly clients = new Map<string, ApiClient>();
  private readonly known = new Map<string, string>();

  constructor(private readonly options: CollectorOptions) {}

  private client(url: string): ApiClient {
    let client = this.clients.get(url);
    if (!client) {
      client = new ApiClient({
        server: url,
        token: this.options.token,
        timeoutMs: this.options.timeoutMs ?? 1_000,
      });
      this.clients.set(url, client);
    }
    return client;
  }

  private async view(url: string): Promise<ClusterView> {
    return this.client(url).get<ClusterView>("/v1/cluster");
  }

  private async ready(url: string): Promise<boolean> {
    const response = await this.client(url).call<unknown>("GET", "/readyz", { allow: [503] });
    return response.status === 200;
  }

  async collect(now = new Date()): Promise<StatusReport> {
    const problems: string[] = [];
    // The membership: the named server first, then every member seen before.
    const candidates = [this.options.server, ...this.known.values()].filter(
      (u, i, all) => all.indexOf(u) === i,
    );
    let membership: ClusterView | null = null;
    for (const url of candidates) {
      try {
        membership = await this.view(url);
        break;
      } catch (error) {
        problems.push(`${url}: ${(error as Error).message}`);
      }
    }
    if (!membership) {
      return {
        at: now,
        leader: null,
        term: null,
        members: [],
        project: this.options.project ?? null,
        pushes: null,
        problems,
      };
    }
    problems.length = 0;
    for (const m of membership.members) this.known.set(m.id, m.url || this.options.server);

    const answers = await Promise.all(
      membership.members.map(async (m) => {
        const url = this.known.get(m.id)!;
        try {
          const [view, ready] = await Promise.all([this.view(url), this.ready(url)]);
          return { member: m, url, view, ready, error: undefined };
        } catch (error) {
          return { member: m, url, view: null, ready: false, error: (error as Error).message };
        }
      }),
    );
    const leaderAnswer = answers.find((a) => a.view?.role === "leader");
    const leader = leaderAnswer?.member.id ?? null;
    const leaderCommit = leaderAnswer?.view?.commitIndex ?? null;
    const contact = new Map(
      (leaderAnswer?.view?.members ?? []).map((m) => [m.id, m.id === leader ? 0 : (m.lastContactMs ?? null)]),
    );
    const members: MemberStatus[] = answers.map(({ member, url, view, ready, error }) => ({
      id: member.id,
      url,
      voter: member.voter,
      role: view?.role ?? null,
      term: view?.term ?? null,
      commitIndex: view?.commitIndex ?? null,
      appliedIndex: view?.appliedIndex ?? null,
      lag: view && leaderCommit !== null ? Math.max(0, leaderCommit - view.appliedIndex) : null,
      lastContactMs: contact.get(member.id) ?? null,
      health: view === null ? "down" : ready ? "ok" : "not ready",
      ...(error ? { error } : {}),
      isLeader: member.id === leader,
    }));

    let pushes: RevisionRecord[] | null = null;
    const project = this.options.project ?? null;
    if (project) {
      const live = answers.find((a) => a.view !== null);
      try {
        if (!live) throw new Error("no member answered");
        const list = await this.client(live.url).get<{ items: RevisionRecord[] }>(
          `/v1/projects/${encodeURIComponent(project)}/pushes`,
          { query: { limit: this.options.pushes ?? 5, consistency: "serializable" } },
        );
        pushes = list.items;
      } catch (error) {
        problems.push(`pushes of ${project}: ${(error as Error).message}`);
      }
    }
    return {
      at: now,
      leader,
      term: leaderAnswer?.view?.term ?? Math.max(...members.map((m) => m.term ?? 0)),
      members,
      project,
      pushes,
      problems,
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }
}
