/**
 * One simulation run, entirely determined by its seed: a fault phase (drops, delays, reordering,
 * duplicates, partitions, crashes, slow nodes, membership changes, leadership transfers, client
 * traffic), then a healed phase that must elect a leader and commit a proposal within a bound,
 * then a linearizability check of every client's history.
 */
import { checkHistory } from "../../linearizability/checker.js";
import type { HistoryEntry, Operation } from "../../linearizability/history.js";
import type { BugSwitches, NodeId, Ready } from "../types.js";
import { Cluster, type SimNode } from "./cluster.js";
import { Invariants, Violation } from "./invariants.js";
import type { KvCommand } from "./kv.js";
import { Prng } from "./prng.js";

export interface RunOptions {
  seed: number;
  nodes: 3 | 5;
  steps: number;
  bug?: keyof BugSwitches;
  /** Fault rate multiplier; by default each seed picks one of 0.5, 1, 1, 3. */
  intensity?: number;
  trace?: (line: string) => void;
}

export interface RunResult {
  seed: number;
  nodes: number;
  ok: boolean;
  violation?: string;
  stats: {
    steps: number;
    ops: number;
    completed: number;
    crashes: number;
    elections: number;
    commits: number;
    /** The linearizability search hit its budget: no verdict for this history. */
    undecided: boolean;
  };
}

const LIVENESS_TICKS = 400;
const CLIENT_TIMEOUT = 60;
const KEYS = ["x", "y", "z"];

interface Pending {
  entry: HistoryEntry;
  node: NodeId;
  deadline: number;
}

export function runSeed(options: RunOptions): RunResult {
  const rng = new Prng(options.seed);
  const faults = rng.fork();
  const clients = rng.fork();
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const spares = [`n${options.nodes + 1}`];
  const history: HistoryEntry[] = [];
  const pending = new Map<string, Pending>();
  let clock = 0;
  const stats = { steps: 0, ops: 0, completed: 0, crashes: 0, elections: 0, commits: 0, undecided: false };
  const trace = options.trace;
  const invariants = new Invariants();

  const complete = (reqId: string, node: SimNode, result: string | null | boolean) => {
    const p = pending.get(reqId);
    if (!p || p.node !== node.id) return;
    pending.delete(reqId);
    p.entry.complete = ++clock;
    p.entry.result = result;
    stats.completed++;
    trace?.(
      `[${cluster.now}] client ${p.entry.client} ${p.entry.op.kind} ${reqId} -> ${JSON.stringify(result)} via ${node.id}`,
    );
  };

  // Set once `crash` exists: crashes a leader between sending its appends and persisting them.
  let tearLeaderWrite: ((node: SimNode, ready: Ready) => void) | null = null;

  // Message sizes from one entry per append to many: small ones expose partial replication.
  const maxSizePerMsg = faults.pick([1, 64, 256, 4096]);
  const cluster: Cluster = new Cluster({
    ids,
    spares,
    rng: rng.fork(),
    electionTick: 10,
    snapshotEvery: faults.pick([0, 16, 48]),
    maxSizePerMsg,
    maxInflightMsgs: faults.pick([1, 4, 16]),
    ...(options.bug ? { bugs: { [options.bug]: true } } : {}),
    network: {
      drop: faults.pick([0, 0.02, 0.1, 0.25]),
      duplicate: faults.pick([0, 0.05]),
      maxDelay: faults.pick([0, 2, 6]),
    },
    hooks: {
      onApply(node, entry, result) {
        invariants.onApply(node, entry);
        if (entry.type !== "normal" || entry.data === "") return;
        const command = JSON.parse(entry.data) as KvCommand;
        complete(`${command.client}:${command.req}`, node, result);
      },
      onRead(node, requestId) {
        const p = pending.get(requestId);
        if (p?.entry.op.kind !== "get") return;
        complete(requestId, node, node.disk.kv.data[p.entry.op.key] ?? null);
      },
      afterSendFirst(node, ready) {
        tearLeaderWrite?.(node, ready);
      },
      ...(trace ? { trace } : {}),
    },
  });

  const crashedUntil = new Map<NodeId, number>();
  const healAt: { at: number; links: string[] }[] = [];
  let lastLeaderTerm = 0;
  let nextReq = 0;

  const abandonAt = (id: NodeId) => {
    for (const [reqId, p] of pending) if (p.node === id) pending.delete(reqId); // outcome unknown: complete stays Infinity
  };

  const issue = (client: string) => {
    const node = clients.pick([...cluster.nodes.keys()]);
    const key = clients.pick(KEYS);
    const req = nextReq++;
    const reqId = `${client}:${req}`;
    const roll = clients.next();
    let op: Operation;
    if (roll < 0.4) op = { kind: "get", key };
    else if (roll < 0.75) op = { kind: "put", key, value: `${client}-${req}` };
    else
      op = {
        kind: "cas",
        key,
        expected: clients.chance(0.5) ? null : `c${clients.int(4)}-${clients.int(req + 1)}`,
        value: `${client}-${req}`,
      };
    const entry: HistoryEntry = { id: req, client, op, invoke: ++clock, complete: Number.POSITIVE_INFINITY };
    pending.set(reqId, { entry, node, deadline: cluster.now + CLIENT_TIMEOUT });
    let accepted: boolean;
    if (op.kind === "get") accepted = cluster.readIndex(node, reqId);
    else {
      const command: KvCommand =
        op.kind === "put"
          ? { op: "put", key, value: op.value, client, req }
          : { op: "cas", key, expected: op.expected, value: op.value, client, req };
      accepted = cluster.propose(node, JSON.stringify(command));
    }
    if (accepted || !pending.has(reqId)) {
      history.push(entry);
      stats.ops++;
    } else pending.delete(reqId); // refused up front: it can never take effect
  };

  // How violent this run is: some seeds crash and partition a lot, others barely.
  const picked = faults.pick([0.5, 1, 1, 3]);
  const intensity = options.intensity ?? picked;
  const crash = (victim: NodeId) => {
    cluster.crash(victim, faults.chance(0.5));
    invariants.onCrash(cluster.nodes.get(victim)!);
    abandonAt(victim);
    stats.crashes++;
    crashedUntil.set(victim, cluster.now + 1 + faults.int(intensity > 1 ? 15 : 40));
  };
  // Crash a leader whose new entries are on their way to the followers but not on its own disk.
  // Its own stream, forked after the others, so that every other fault of a seed stays the same.
  const tears = rng.fork();
  tearLeaderWrite = (node, ready) => {
    if (ready.entries.length > 0 && tears.chance(0.01 * intensity)) crash(node.id);
  };
  // Crash a leader right after it commits: the window where a commit is known to few nodes.
  let leaderCommit = 0;
  const crashAfterCommit = () => {
    const leader = cluster.leader();
    if (!leader) return;
    const commit = leader.raw!.raft.log.committed;
    if (commit > leaderCommit && faults.chance(0.03 * intensity)) crash(leader.id);
    leaderCommit = commit;
  };
  const fault = () => {
    const roll = faults.next() / intensity;
    const all = [...cluster.nodes.keys()];
    if (roll < 0.012) {
      const alive = cluster.alive();
      if (alive.length > 0) {
        // Leaders are the interesting victims: half the crashes hit the current one.
        const leader = cluster.leader();
        const victim = leader && faults.chance(0.5) ? leader.id : faults.pick(alive).id;
        crash(victim);
      }
    } else if (roll < 0.02) {
      // Symmetric partition: a random group against the rest.
      const group = all.filter(() => faults.chance(0.4));
      const links: string[] = [];
      for (const a of group)
        for (const b of all) if (!group.includes(b)) links.push(`${a}>${b}`, `${b}>${a}`);
      for (const link of links) cluster.blocked.add(link);
      trace?.(`[${cluster.now}] partition ${group.join(",")} | rest`);
      healAt.push({ at: cluster.now + 10 + faults.int(80), links });
    } else if (roll < 0.023) {
      // Isolate the leader: the classic way to get competing uncommitted logs.
      const leader = cluster.leader();
      if (!leader) return;
      const links: string[] = [];
      for (const b of all) if (b !== leader.id) links.push(`${leader.id}>${b}`, `${b}>${leader.id}`);
      for (const link of links) cluster.blocked.add(link);
      trace?.(`[${cluster.now}] isolate leader ${leader.id}`);
      healAt.push({ at: cluster.now + 5 + faults.int(40), links });
    } else if (roll < 0.026) {
      const a = faults.pick(all);
      const b = faults.pick(all.filter((x) => x !== a));
      cluster.blocked.add(`${a}>${b}`);
      trace?.(`[${cluster.now}] block ${a}>${b}`);
      healAt.push({ at: cluster.now + 10 + faults.int(60), links: [`${a}>${b}`] });
    } else if (roll < 0.03) {
      const node = cluster.nodes.get(faults.pick(all))!;
      node.slow = !node.slow;
      trace?.(`[${cluster.now}] ${node.id} ${node.slow ? "slow" : "normal speed"}`);
    } else if (roll < 0.036) {
      const leader = cluster.leader();
      if (!leader) return;
      const cs = leader.raw!.raft.confState();
      const members = [...cs.voters, ...cs.learners];
      const choice = faults.next();
      const outsider = all.find((id) => !members.includes(id));
      if (choice < 0.35 && outsider)
        cluster.proposeConfChange(leader.id, { type: "add-learner", nodeId: outsider });
      else if (choice < 0.7 && cs.learners.length > 0)
        cluster.proposeConfChange(leader.id, { type: "add-voter", nodeId: faults.pick(cs.learners) });
      else if (cs.voters.length > options.nodes - 1 || cs.learners.length > 0) {
        const candidates = cs.voters.length > 3 ? members : cs.learners;
        if (candidates.length > 0)
          cluster.proposeConfChange(leader.id, { type: "remove-node", nodeId: faults.pick(candidates) });
      }
    } else if (roll < 0.041) {
      const leader = cluster.leader();
      if (leader) {
        const voters = leader.raw!.raft.confState().voters.filter((id) => id !== leader.id);
        if (voters.length > 0) cluster.transferLeadership(leader.id, faults.pick(voters));
      }
    }
  };

  const afterEvent = () => {
    invariants.check(cluster);
    const leader = cluster.leader();
    if (leader && leader.raw!.raft.term > lastLeaderTerm) {
      lastLeaderTerm = leader.raw!.raft.term;
      stats.elections++;
      trace?.(`[${cluster.now}] ${leader.id} leads term ${lastLeaderTerm}`);
    }
  };

  try {
    for (let step = 0; step < options.steps; step++) {
      stats.steps++;
      fault();
      for (const [id, until] of crashedUntil) {
        if (cluster.now >= until) {
          crashedUntil.delete(id);
          cluster.restart(id);
        }
      }
      for (let i = healAt.length - 1; i >= 0; i--) {
        if (healAt[i]!.at <= cluster.now) {
          for (const link of healAt[i]!.links) cluster.blocked.delete(link);
          healAt.splice(i, 1);
        }
      }
      if (clients.chance(0.5)) issue(`c${clients.int(4)}`);
      cluster.step();
      for (const [reqId, p] of pending) if (p.deadline <= cluster.now) pending.delete(reqId);
      afterEvent();
      crashAfterCommit();
    }

    // Liveness: faults stop; a leader must emerge and a proposal must commit within a bound.
    trace?.(`[${cluster.now}] faults stop`);
    tearLeaderWrite = null;
    cluster.blocked.clear();
    cluster.network = { drop: 0, duplicate: 0, maxDelay: 1 };
    for (const node of cluster.nodes.values()) {
      node.slow = false;
      if (!node.raw) cluster.restart(node.id);
    }
    const start = cluster.now;
    let marker: string | null = null;
    let committed = false;
    while (cluster.now - start < LIVENESS_TICKS && !committed) {
      cluster.step();
      afterEvent();
      const leader = cluster.leader();
      if (!leader) continue;
      if (marker === null) {
        const command: KvCommand = { op: "put", key: "liveness", value: "done", client: "liveness", req: 0 };
        if (cluster.propose(leader.id, JSON.stringify(command))) marker = leader.id;
      } else if (leader.disk.kv.data.liveness === "done") committed = true;
      else if (leader.id !== marker) marker = null;
    }
    if (!committed) {
      throw new Violation(
        "Liveness",
        `no proposal committed within ${LIVENESS_TICKS} ticks after faults stopped`,
      );
    }
    stats.commits = Math.max(...[...cluster.nodes.values()].map((n) => n.disk.kv.applied));
    const verdict = checkHistory(history);
    stats.undecided = verdict.gaveUp === true;
    if (!verdict.ok)
      throw new Violation("Linearizability", verdict.explanation ?? "history is not linearizable");
    return { seed: options.seed, nodes: options.nodes, ok: true, stats };
  } catch (error) {
    if (error instanceof Violation) {
      trace?.(`[${cluster.now}] VIOLATION ${error.message}`);
      return { seed: options.seed, nodes: options.nodes, ok: false, violation: error.message, stats };
    }
    const message = `core threw: ${(error as Error).stack ?? String(error)}`;
    trace?.(`[${cluster.now}] ${message}`);
    return { seed: options.seed, nodes: options.nodes, ok: false, violation: message, stats };
  }
}
