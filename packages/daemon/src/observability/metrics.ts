/**
 * Prometheus metrics of one node (prom-client), served at GET /metrics. One registry per node, so
 * several nodes in one process (tests) never mix their numbers. Names follow Prometheus practice:
 * `cfgd_` prefix, base units (seconds, bytes), `_total` for counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DriverObserver } from "./driver-observer.js";

/** What the Raft gauges read at scrape time. */
export interface RaftStatus {
  term: number;
  role: string;
  commitIndex: number;
  appliedIndex: number;
  snapshotIndex: number;
  firstLogIndex: number;
  isLeader: boolean;
}

const ROLES = ["follower", "pre-candidate", "candidate", "leader", "single"];
/** Latency buckets from 0.1 ms to 10 s. */
const SECONDS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly httpDuration: Histogram<"method" | "route">;
  readonly proposals: Counter<"type" | "result">;
  readonly proposalDuration: Histogram<"type">;
  readonly persistDuration: Histogram;
  readonly persistEntries: Counter;
  readonly applyDuration: Histogram;
  readonly snapshots: Counter<"event">;
  readonly snapshotBytes: Gauge;
  readonly pushConflicts: Counter;
  readonly validationFailures: Counter;
  readonly watchers: Gauge;
  readonly forwarded: Counter<"result">;
  private raft: (() => RaftStatus) | undefined;
  /** How many watch streams and blocking reads are open (set by the node). */
  countWatchers: (() => number) | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "cfgd_" });
    this.httpRequests = new Counter({
      name: "cfgd_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "cfgd_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by method and route pattern",
      labelNames: ["method", "route"],
      buckets: SECONDS,
      registers,
    });
    this.proposals = new Counter({
      name: "cfgd_proposals_total",
      help: "Commands proposed by this node, by command type and result (ok, or the error code)",
      labelNames: ["type", "result"],
      registers,
    });
    this.proposalDuration = new Histogram({
      name: "cfgd_proposal_duration_seconds",
      help: "From proposing a command to its outcome (committed and applied, or failed)",
      labelNames: ["type"],
      buckets: SECONDS,
      registers,
    });
    this.persistDuration = new Histogram({
      name: "cfgd_raft_persist_duration_seconds",
      help: "One raft.db transaction per batch: append entries and hard state, then fsync",
      buckets: SECONDS,
      registers,
    });
    this.persistEntries = new Counter({
      name: "cfgd_raft_persisted_entries_total",
      help: "Log entries appended to raft.db",
      registers,
    });
    this.applyDuration = new Histogram({
      name: "cfgd_apply_duration_seconds",
      help: "One state.db transaction applying a batch of committed entries",
      buckets: SECONDS,
      registers,
    });
    this.snapshots = new Counter({
      name: "cfgd_snapshots_total",
      help: "Snapshots by event: created (an image of state.db), compacted (the log compacted behind state.db, no image), sent (to a follower), installed (from the leader), failed",
      labelNames: ["event"],
      registers,
    });
    this.snapshotBytes = new Gauge({
      name: "cfgd_snapshot_size_bytes",
      help: "Size of the last snapshot this node created or installed",
      registers,
    });
    this.pushConflicts = new Counter({
      name: "cfgd_push_conflicts_total",
      help: "Writes refused because a key changed after their base revision or If-Match (409/412)",
      registers,
    });
    this.validationFailures = new Counter({
      name: "cfgd_validation_failures_total",
      help: "Writes refused because a value did not validate against its schema",
      registers,
    });
    const metrics = this;
    this.watchers = new Gauge({
      name: "cfgd_watchers",
      help: "Open watch streams and blocking reads on this node",
      registers,
      collect() {
        if (metrics.countWatchers) this.set(metrics.countWatchers());
      },
    });
    this.forwarded = new Counter({
      name: "cfgd_forwarded_requests_total",
      help: "Writes this node forwarded to the leader, by result",
      labelNames: ["result"],
      registers,
    });
    const status = () => this.raft?.();
    const gauge = (name: string, help: string, read: (s: RaftStatus) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = status();
          if (s) this.set(read(s));
        },
      });
    gauge("cfgd_raft_term", "Current Raft term", (s) => s.term);
    gauge("cfgd_raft_commit_index", "Highest log index known to be committed", (s) => s.commitIndex);
    gauge("cfgd_raft_applied_index", "Highest log index applied to state.db", (s) => s.appliedIndex);
    gauge("cfgd_raft_snapshot_index", "Index of the last snapshot of state.db", (s) => s.snapshotIndex);
    gauge(
      "cfgd_raft_first_log_index",
      "First index still in the log (after compaction)",
      (s) => s.firstLogIndex,
    );
    gauge("cfgd_raft_is_leader", "1 on the leader, 0 elsewhere", (s) => (s.isLeader ? 1 : 0));
    new Gauge({
      name: "cfgd_raft_role",
      help: "1 for this node's current role",
      labelNames: ["role"],
      registers,
      collect() {
        const s = status();
        if (!s) return;
        for (const role of ROLES) this.set({ role }, role === s.role ? 1 : 0);
      },
    });
  }

  /** Where the Raft gauges read from (set once the node is open). */
  bindRaft(read: () => RaftStatus): void {
    this.raft = read;
  }

  /** The driver's reports, as metrics. */
  readonly observer: DriverObserver = {
    persisted: (seconds, entries) => {
      this.persistDuration.observe(seconds);
      this.persistEntries.inc(entries);
    },
    applied: (seconds) => this.applyDuration.observe(seconds),
    snapshot: (event, bytes) => {
      this.snapshots.inc({ event });
      if (bytes !== undefined && (event === "created" || event === "installed"))
        this.snapshotBytes.set(bytes);
    },
  };

  /** Count a proposal's outcome. */
  proposed(type: string, result: string, seconds: number): void {
    this.proposals.inc({ type, result });
    this.proposalDuration.observe({ type }, seconds);
    if (result === "conflict" || result === "precondition_failed") this.pushConflicts.inc();
    if (result === "validation_failed") this.validationFailures.inc();
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
