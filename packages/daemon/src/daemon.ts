/**
 * Wiring of one node: databases, log, state machine, service, HTTP server. `main.ts` parses flags
 * and calls this; tests call it to run a node in process.
 */
import { mkdirSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { ClusterView } from "@cfguardian/shared";
import { serve } from "@hono/node-server";
import { request } from "undici";
import { AdminTokenAuthenticator, clusterAdminToken, loadOrCreateAdminToken } from "./auth/admin-token.js";
import { deriveClusterId } from "./cluster/cluster-id.js";
import { CLUSTER_SECRET_HEADER, HttpTransport } from "./cluster/http-transport.js";
import { RaftNode } from "./cluster/raft-node.js";
import { type AppDeps, createApp } from "./http/app.js";
import { CfgResponse } from "./http/server-response.js";
import { startIdentity } from "./identity.js";
import { SingleNodeLog } from "./log/single-node-log.js";
import { type Logger, silentLogger } from "./logger.js";
import { InstrumentedProposer } from "./observability/instrumented-proposer.js";
import { Metrics } from "./observability/metrics.js";
import { ConfigService } from "./services/config-service.js";
import { WatchService } from "./services/watch-service.js";
import { StateMachine } from "./state/state-machine.js";
import { StateStore } from "./state/state-store.js";
import { takeImage } from "./storage/backup.js";
import { WalCheckpoints } from "./storage/checkpoints.js";
import { RaftLogStore } from "./storage/raft-log-store.js";
import { SnapshotStore } from "./storage/snapshot-store.js";
import { type Db, openDatabase } from "./storage/sqlite.js";
import { SqliteRaftStorage } from "./storage/sqlite-raft-storage.js";
import { StorageWorker } from "./storage/storage-worker.js";

/**
 * state.db commits its applied batches together this often (see StateMachine): etcd commits its
 * backend every 100 ms for the same reason, a B-tree page changed by many writes is written once.
 */
const STATE_COMMIT_EVERY_MS = 100;

export interface DaemonOptions {
  /** host:port; port 0 picks a free port. */
  listen: string;
  dataDir: string;
  maxValueBytes?: number;
  maxBodyBytes?: number;
  logger?: Logger;
  /** Cluster mode: this node's id, every member's URL (itself included), and the shared secret. */
  cluster?: ClusterOptions;
  /** PostgreSQL for metadata (users, roles, keys, audit); absent: embedded in state.db, replicated. */
  databaseUrl?: string;
  /** Create this cluster admin on first start (else a one-time bootstrap code is logged). */
  bootstrapAdmin?: { email: string; password: string };
  /** Called when the write path fails in a way only a restart can repair. */
  onFatal?: (error: Error) => void;
  /** App reads per second per API key and per address, logins per minute per address (0: no limit). */
  rateLimits?: { readsPerSecond: number; loginPerMinute: number };
}

export interface RunningDaemon {
  url: string;
  adminToken: string;
  adminTokenFile: string;
  adminTokenCreated: boolean;
  replayed: number;
  close(): Promise<void>;
}

export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(listen);
  if (!match || Number(match[2]) > 65535) {
    throw new Error(`--listen must be host:port (for example 127.0.0.1:7070), not ${JSON.stringify(listen)}`);
  }
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1", port: Number(match[2]) };
}

/**
 * A node's storage worker (storage/storage-worker.ts) and its databases' checkpoints, their bulk
 * on that worker (storage/checkpoints.ts). In single-node mode raft.db commits with
 * synchronous=FULL and keeps SQLite's own checkpoints.
 */
function startStorage(raftDb: Db | null, stateDb: Db, logger: Logger) {
  const worker = new StorageWorker();
  let warned = false;
  const onError = (error: Error) => {
    if (!warned)
      logger.warn("checkpoints run on the event loop: the worker failed", { error: error.message });
    warned = true;
  };
  const raft = raftDb && !raftDb.memory ? new WalCheckpoints(raftDb, worker, onError) : undefined;
  const state = stateDb.memory ? undefined : new WalCheckpoints(stateDb, worker, onError);
  return {
    worker,
    raft,
    state,
    close: async () => {
      raft?.close();
      state?.close();
      await worker.close();
    },
  };
}

/** Open the node's storage and the pieces on top of it (no network). */
export function openNode(
  dataDir: string,
  options: { onFatal?: (error: Error) => void; metrics?: Metrics } = {},
) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raftDb = openDatabase(join(dataDir, "raft.db"), true);
  const stateDb = openDatabase(join(dataDir, "state.db"), false);
  const logStore = new RaftLogStore(raftDb);
  const storageWork = startStorage(null, stateDb, silentLogger);
  const machine = new StateMachine(new StateStore(stateDb), {
    commitEveryMs: STATE_COMMIT_EVERY_MS,
    checkpoints: storageWork.state,
  });
  const log = new SingleNodeLog(logStore, machine, options.onFatal, options.metrics?.observer);
  const { replayed } = log.open();
  options.metrics?.bindRaft(() => ({
    term: 1,
    role: "single",
    commitIndex: machine.appliedIndex,
    appliedIndex: machine.appliedIndex,
    snapshotIndex: 0,
    firstLogIndex: 1,
    isLeader: true,
  }));
  const service = new ConfigService(
    options.metrics ? new InstrumentedProposer(log, options.metrics) : log,
    machine,
  );
  return {
    log,
    machine,
    service,
    replayed,
    close: async () => {
      await log.close();
      await storageWork.close();
      raftDb.close();
      stateDb.close();
    },
  };
}

export interface ClusterOptions {
  nodeId: string;
  /** Founding members (itself included) when bootstrapping; members to contact with `join`. */
  peers: Map<string, string>;
  secret: string;
  /** Join a running cluster (after `cfg cluster add`) instead of founding one. */
  join?: boolean;
  snapshotCount?: number;
  catchUpEntries?: number;
}

export { deriveClusterId } from "./cluster/cluster-id.js";

interface JoinInfo {
  clusterId: string;
  members: { id: string; url: string; voter: boolean; learner: boolean }[];
}

/** Ask the members in --peers for the cluster id, and check that this node was added. */
async function fetchJoinInfo(cluster: ClusterOptions): Promise<JoinInfo> {
  const problems: string[] = [];
  for (const [id, url] of cluster.peers) {
    if (id === cluster.nodeId) continue;
    try {
      const response = await request(`${url}/raft/v1/join-info`, {
        headers: { [CLUSTER_SECRET_HEADER]: cluster.secret },
        headersTimeout: 5_000,
        bodyTimeout: 5_000,
      });
      const text = await response.body.text();
      if (response.statusCode !== 200) {
        problems.push(`${id} (${url}): HTTP ${response.statusCode} ${text.slice(0, 200)}`);
        continue;
      }
      const info = JSON.parse(text) as JoinInfo;
      if (!info.members.some((m) => m.id === cluster.nodeId)) {
        throw new Error(
          `${cluster.nodeId} is not a member of the cluster yet; add it first with \`cfg cluster add ${cluster.nodeId} <url>\`, then start it with --join`,
        );
      }
      return info;
    } catch (error) {
      if ((error as Error).message.includes("is not a member")) throw error;
      problems.push(`${id} (${url}): ${(error as Error).message}`);
    }
  }
  throw new Error(`--join: no member in --peers answered: ${problems.join("; ") || "none listed"}`);
}

/** Open a cluster member: the Raft driver over raft.db and state.db, with the HTTP transport. */
export async function openClusterNode(
  dataDir: string,
  cluster: ClusterOptions,
  logger: Logger,
  metrics?: Metrics,
) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raftDb = openDatabase(join(dataDir, "raft.db"), true);
  const stateDb = openDatabase(join(dataDir, "state.db"), false);
  const fail = (message: string): never => {
    raftDb.close();
    stateDb.close();
    throw new Error(message);
  };
  const storage = new SqliteRaftStorage(raftDb);
  const founders = [...cluster.peers.keys()].sort();
  // The cluster id: fixed at bootstrap from the secret and the founding members (or learned from
  // the cluster when joining). Messages of another cluster are refused, and so is a data
  // directory of another node or one made with another secret.
  let clusterId = storage.meta("cluster_id");
  if (clusterId === undefined) {
    if (!storage.isEmpty()) fail(`${dataDir}/raft.db has a log but no cluster id; use a new --data-dir`);
    if (cluster.join) {
      let info: JoinInfo;
      try {
        info = await fetchJoinInfo(cluster);
      } catch (error) {
        fail((error as Error).message);
      }
      clusterId = info!.clusterId;
      raftDb.transaction(() => {
        storage.setMeta("cluster_id", clusterId!);
        storage.setMeta("node_id", cluster.nodeId);
      })();
      logger.info("joining cluster", { clusterId, members: info!.members.map((m) => m.id) });
    } else {
      if (!cluster.peers.has(cluster.nodeId)) {
        fail(`--peers must list this node (${cluster.nodeId}) with the other founding members`);
      }
      clusterId = deriveClusterId(cluster.secret, founders);
      raftDb.transaction(() => {
        storage.bootstrap(founders.map((id) => ({ id, url: cluster.peers.get(id)! })));
        storage.setMeta("cluster_id", clusterId!);
        storage.setMeta("node_id", cluster.nodeId);
        storage.setMeta("founders", founders.join(","));
      })();
    }
  } else {
    const nodeId = storage.meta("node_id");
    if (nodeId !== undefined && nodeId !== cluster.nodeId) {
      fail(
        `${dataDir} belongs to node ${nodeId}, not ${cluster.nodeId}; use that --node-id or a new --data-dir`,
      );
    }
    const recorded = storage.meta("founders");
    if (recorded !== undefined && deriveClusterId(cluster.secret, recorded.split(",")) !== clusterId) {
      fail(
        `${dataDir} belongs to cluster ${clusterId}, which was founded with another --cluster-secret; use the original secret or a new --data-dir`,
      );
    }
  }
  const id = clusterId!;
  const storageWork = startStorage(raftDb, stateDb, logger);
  const machine = new StateMachine(new StateStore(stateDb), {
    commitEveryMs: STATE_COMMIT_EVERY_MS,
    checkpoints: storageWork.state,
  });
  const snapshots = new SnapshotStore(dataDir);
  // Every member's URL: the applied membership once there is one, the flags until then.
  const members = new Map(cluster.peers);
  const others = () => new Map([...members].filter(([memberId]) => memberId !== cluster.nodeId));
  let node: RaftNode | undefined;
  const transport = new HttpTransport(
    others(),
    cluster.secret,
    id,
    logger,
    (peer) => node?.raw.reportUnreachable(peer),
    snapshots,
    (peer, ok) => {
      metrics?.observer.snapshot(ok ? "sent" : "failed");
      node?.raw.reportSnapshot(peer, ok);
    },
    (peer) => node?.lastContact.get(peer),
  );
  // A member listed in --peers is reached at the address given there (this node's route to it);
  // any other member at the URL replicated with its conf change.
  const useMembers = (list: { id: string; url: string }[]) => {
    if (list.length === 0) return;
    members.clear();
    for (const member of list) members.set(member.id, cluster.peers.get(member.id) ?? member.url);
    transport.setPeers(others());
  };
  useMembers(machine.store.members());
  node = new RaftNode({
    id: cluster.nodeId,
    raftDb,
    raftCheckpoints: storageWork.raft,
    storageWorker: storageWork.worker,
    storage,
    machine,
    transport,
    tickMs: 100,
    electionTick: 10,
    snapshots,
    snapshotCount: cluster.snapshotCount,
    catchUpEntries: cluster.catchUpEntries,
    logger,
    observer: metrics?.observer,
    onMembers: useMembers,
  });
  node.start();
  const raft = node;
  metrics?.bindRaft(() => {
    const core = raft.raw.raft;
    return {
      term: core.term,
      role: core.role,
      commitIndex: core.log.committed,
      appliedIndex: machine.appliedIndex,
      snapshotIndex: storage.snapshot().meta.index,
      firstLogIndex: storage.firstIndex(),
      isLeader: core.role === "leader",
    };
  });
  const view = (): ClusterView => {
    const core = raft.raw.raft;
    const wanted = new Map(raft.members().map((m) => [m.id, m]));
    const ids = [...core.voters, ...core.learners].sort();
    return {
      nodeId: cluster.nodeId,
      leader: core.lead,
      term: core.term,
      role: core.role,
      commitIndex: core.log.committed,
      appliedIndex: machine.appliedIndex,
      snapshotIndex: storage.snapshot().meta.index,
      firstLogIndex: storage.firstIndex(),
      members: ids.map((memberId) => ({
        id: memberId,
        url: members.get(memberId) ?? "",
        voter: core.voters.has(memberId),
        ...(core.learners.has(memberId) ? { promote: wanted.get(memberId)?.promote ?? false } : {}),
        ...(core.role === "leader" ? { match: core.prs.get(memberId)?.match ?? 0 } : {}),
        ...(memberId !== cluster.nodeId && raft.lastContact.has(memberId)
          ? { lastContactMs: Date.now() - raft.lastContact.get(memberId)! }
          : {}),
      })),
    };
  };
  return {
    node: raft,
    clusterId: id,
    machine,
    snapshots,
    service: new ConfigService(metrics ? new InstrumentedProposer(raft, metrics) : raft, machine),
    view,
    locator: {
      isLeader: () => raft.raw.raft.role === "leader",
      leaderUrl: () => {
        const lead = raft.raw.raft.lead;
        return lead && lead !== cluster.nodeId ? (members.get(lead) ?? null) : null;
      },
    },
    joinInfo: (): JoinInfo => {
      const v = view();
      return {
        clusterId: id,
        members: v.members.map((m) => ({ id: m.id, url: m.url, voter: m.voter, learner: !m.voter })),
      };
    },
    handOver: () => raft.handOver(),
    close: async () => {
      await raft.close();
      await transport.close();
      await storageWork.close();
      raftDb.close();
      stateDb.close();
    },
  };
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const logger = options.logger ?? silentLogger;
  const { host, port } = parseListen(options.listen);
  const limits = {
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
  };
  const metrics = new Metrics();
  // 0 means no limit: a bucket that never runs out.
  const unlimited = (n: number) => (n === 0 ? Number.POSITIVE_INFINITY : n);
  const rateLimits = options.rateLimits && {
    readsPerSecond: unlimited(options.rateLimits.readsPerSecond),
    loginPerMinute: unlimited(options.rateLimits.loginPerMinute),
  };
  let deps: AppDeps;
  let closeNode: () => Promise<void>;
  let handOver: () => Promise<unknown> = async () => false;
  const peerStreams = new Set<Socket>();
  let replayed = 0;
  let token: ReturnType<typeof loadOrCreateAdminToken>;
  let identity: Awaited<ReturnType<typeof startIdentity>>;
  if (options.cluster) {
    const cluster = options.cluster;
    const node = await openClusterNode(options.dataDir, cluster, logger, metrics);
    metrics.countWatchers = () => node.machine.changes.size;
    // Every member derives the same admin token from the cluster secret, so any node takes it.
    token = loadOrCreateAdminToken(options.dataDir, clusterAdminToken(cluster.secret));
    identity = await startIdentity(
      options,
      node.node,
      node.machine.store.db,
      token.token,
      logger,
      cluster.secret,
    );
    deps = {
      identity: identity.service,
      service: node.service,
      authenticator: new AdminTokenAuthenticator(token.token),
      logger,
      metrics,
      ready: () => node.node.isReady(),
      watch: new WatchService(node.machine),
      backup: async () => {
        // Everything committed before the request, even on a follower.
        await node.node.readBarrier();
        node.machine.flush();
        return takeImage(node.machine.store.db, options.dataDir, {
          clusterId: node.clusterId,
          nodeId: cluster.nodeId,
        });
      },
      limits,
      rateLimits,
      cluster: {
        nodeId: cluster.nodeId,
        secret: cluster.secret,
        clusterId: node.clusterId,
        receive: (m) => node.node.receive(m),
        snapshots: node.snapshots,
        joinInfo: node.joinInfo,
        streams: peerStreams,
        locator: node.locator,
        control: {
          transferLeadership: (to) => node.node.transferLeadership(to),
          view: node.view,
          addMember: (id, url, voter) => node.node.addMember(id, url, voter),
          removeMember: (id) => node.node.removeMember(id),
          snapshot: () => node.node.snapshot(),
        },
      },
    };
    closeNode = node.close;
    handOver = node.handOver;
  } else {
    const node = openNode(options.dataDir, { onFatal: options.onFatal, metrics });
    metrics.countWatchers = () => node.machine.changes.size;
    token = loadOrCreateAdminToken(options.dataDir);
    identity = await startIdentity(options, node.log, node.machine.store.db, token.token, logger);
    deps = {
      identity: identity.service,
      service: node.service,
      authenticator: new AdminTokenAuthenticator(token.token),
      logger,
      metrics,
      ready: () => true,
      limits,
      rateLimits,
      watch: new WatchService(node.machine),
      backup: async () => {
        node.machine.flush();
        return takeImage(node.machine.store.db, options.dataDir, { clusterId: null, nodeId: null });
      },
      singleView: () => ({
        nodeId: "single",
        leader: "single",
        term: 1,
        role: "leader",
        commitIndex: node.machine.appliedIndex,
        appliedIndex: node.machine.appliedIndex,
        snapshotIndex: 0,
        firstLogIndex: 1,
        members: [{ id: "single", url, voter: true }],
      }),
    };
    closeNode = node.close;
    replayed = node.replayed;
  }
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: app.fetch, hostname: host, port, serverOptions: { ServerResponse: CfgResponse } },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  // Raft streams between nodes are requests that last as long as their connection.
  (server as { requestTimeout?: number }).requestTimeout = 0;
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    adminToken: token.token,
    adminTokenFile: token.file,
    adminTokenCreated: token.created,
    replayed,
    close() {
      closing ??= (async () => {
        // Hand leadership over while peers can still reach us, stop accepting, let in-flight
        // requests finish (idle keep-alive connections are closed), then close the databases.
        if (await handOver()) logger.info("leadership handed over before shutdown");
        // Peers' streams to us last as long as their connection: end them, or close would wait.
        for (const socket of peerStreams) socket.destroy();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        });
        await identity.close();
        await closeNode();
      })();
      return closing;
    },
  };
}
