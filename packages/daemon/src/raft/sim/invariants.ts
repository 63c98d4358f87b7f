/**
 * The safety properties of Raft (Ongaro's thesis, Figure 3.2), checked over the whole simulated
 * cluster after every event: Election Safety, Leader Append-Only, Log Matching, Leader
 * Completeness, State Machine Safety, and commit indexes that never go back.
 */
import type { Entry } from "../types.js";
import type { Cluster, SimNode } from "./cluster.js";

export class Violation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = "Violation";
  }
}

interface Known {
  term: number;
  data: string;
  /** Lowest term in which a node was seen holding it committed: leaders of later terms must have it. */
  commitTerm?: number;
}

export class Invariants {
  private readonly leaders = new Map<number, string>();
  private readonly leaderLogs = new Map<string, { from: number; terms: number[] }>();
  private readonly committed = new Map<number, Known>();
  private readonly checkedCommit = new Map<string, number>();
  private readonly applied = new Map<number, Known>();
  private readonly memCommit = new Map<string, number>();
  private readonly diskCommit = new Map<string, number>();
  private readonly leaderVerified = new Map<string, number>();
  private maxCommitted = 0;
  private events = 0;

  /** State Machine Safety: called for every entry a node applies. */
  onApply(node: SimNode, entry: Entry): void {
    const known = this.applied.get(entry.index);
    if (!known) this.applied.set(entry.index, { term: entry.term, data: entry.data });
    else if (known.term !== entry.term || known.data !== entry.data) {
      throw new Violation(
        "State Machine Safety",
        `${node.id} applied ${entry.index}@${entry.term} ${entry.data.slice(0, 60)} but another node applied ${entry.index}@${known.term} ${known.data.slice(0, 60)}`,
      );
    }
  }

  onCrash(node: SimNode): void {
    this.memCommit.delete(node.id);
    this.checkedCommit.delete(node.id);
  }

  check(cluster: Cluster): void {
    this.events++;
    const alive = cluster.alive();
    for (const node of cluster.nodes.values()) this.checkDiskCommit(node);
    for (const node of alive) {
      const raft = node.raw!.raft;
      const commit = raft.log.committed;
      const previous = this.memCommit.get(node.id) ?? 0;
      if (commit < previous)
        throw new Violation("Commit Monotonicity", `${node.id} commit went from ${previous} to ${commit}`);
      this.memCommit.set(node.id, commit);
      this.recordCommitted(node);
      if (raft.role === "leader") {
        const holder = this.leaders.get(raft.term);
        if (holder !== undefined && holder !== node.id) {
          throw new Violation(
            "Election Safety",
            `${holder} and ${node.id} are both leaders of term ${raft.term}`,
          );
        }
        this.leaders.set(raft.term, node.id);
        this.checkAppendOnly(node);
        this.checkCompleteness(node);
      }
    }
    if (this.events % 8 === 0) this.checkLogMatching(alive);
  }

  private checkDiskCommit(node: SimNode): void {
    const commit = node.disk.storage.hardState.commit;
    const previous = this.diskCommit.get(node.id) ?? 0;
    if (commit < previous) {
      throw new Violation(
        "Commit Monotonicity",
        `${node.id}'s persisted commit went from ${previous} to ${commit}`,
      );
    }
    this.diskCommit.set(node.id, commit);
  }

  private recordCommitted(node: SimNode): void {
    const raft = node.raw!.raft;
    const from = Math.max((this.checkedCommit.get(node.id) ?? 0) + 1, raft.log.firstIndex());
    for (let i = from; i <= raft.log.committed; i++) {
      const entry = raft.log.entryAt(i);
      if (!entry) continue;
      const known = this.committed.get(i);
      if (!known) this.committed.set(i, { term: entry.term, data: entry.data, commitTerm: raft.term });
      else if (known.term !== entry.term || known.data !== entry.data) {
        throw new Violation(
          "State Machine Safety",
          `${node.id} committed ${i}@${entry.term} but ${i}@${known.term} was committed before`,
        );
      } else if (raft.term < (known.commitTerm ?? raft.term)) known.commitTerm = raft.term;
    }
    this.checkedCommit.set(node.id, raft.log.committed);
    if (raft.log.committed > this.maxCommitted) this.maxCommitted = raft.log.committed;
  }

  private checkAppendOnly(node: SimNode): void {
    const raft = node.raw!.raft;
    const key = `${node.id}@${raft.term}`;
    const first = raft.log.firstIndex();
    const last = raft.log.lastIndex();
    const seen = this.leaderLogs.get(key);
    if (seen) {
      const seenLast = seen.from + seen.terms.length - 1;
      if (last < seenLast) {
        throw new Violation(
          "Leader Append-Only",
          `${node.id} (term ${raft.term}) shrank its log from ${seenLast} to ${last}`,
        );
      }
      for (let i = Math.max(seen.from, first); i <= seenLast; i++) {
        const t = raft.log.termOrZero(i);
        if (t !== seen.terms[i - seen.from]) {
          throw new Violation(
            "Leader Append-Only",
            `${node.id} (term ${raft.term}) changed entry ${i} from term ${seen.terms[i - seen.from]} to ${t}`,
          );
        }
      }
    }
    const terms: number[] = [];
    for (let i = first; i <= last; i++) terms.push(raft.log.termOrZero(i));
    this.leaderLogs.set(key, { from: first, terms });
  }

  private checkCompleteness(node: SimNode): void {
    const raft = node.raw!.raft;
    const key = `${node.id}@${raft.term}`;
    const from = Math.max((this.leaderVerified.get(key) ?? 0) + 1, raft.log.firstIndex());
    for (let i = from; i <= this.maxCommitted; i++) {
      const known = this.committed.get(i);
      // Only entries committed in an earlier term: a stale leader of an older term may lack later ones.
      if (!known || (known.commitTerm ?? 0) >= raft.term) continue;
      const entry = raft.log.entryAt(i);
      if (!entry || entry.term !== known.term || entry.data !== known.data) {
        throw new Violation(
          "Leader Completeness",
          `leader ${node.id} of term ${raft.term} lacks committed entry ${i}@${known.term} (has ${entry ? `${entry.index}@${entry.term}` : "nothing"})`,
        );
      }
    }
    this.leaderVerified.set(key, this.maxCommitted);
  }

  private checkLogMatching(alive: SimNode[]): void {
    for (let a = 0; a < alive.length; a++) {
      for (let b = a + 1; b < alive.length; b++) {
        const la = alive[a]!.raw!.raft.log;
        const lb = alive[b]!.raw!.raft.log;
        const lo = Math.max(la.firstIndex(), lb.firstIndex());
        const hi = Math.min(la.lastIndex(), lb.lastIndex());
        let match = -1;
        for (let i = hi; i >= lo; i--) {
          if (la.termOrZero(i) === lb.termOrZero(i)) {
            match = i;
            break;
          }
        }
        for (let i = lo; i <= match; i++) {
          const ea = la.entryAt(i);
          const eb = lb.entryAt(i);
          if (!ea || !eb) continue;
          if (ea.term !== eb.term || ea.data !== eb.data) {
            throw new Violation(
              "Log Matching",
              `${alive[a]!.id} and ${alive[b]!.id} agree at ${match}@${la.termOrZero(match)} but differ at ${i} (${ea.term} vs ${eb.term})`,
            );
          }
        }
      }
    }
  }
}
