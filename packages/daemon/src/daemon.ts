/**
 * Wiring of one node: databases, log, state machine, service, HTTP server. `main.ts` parses flags
 * and calls this; tests call it to run a node in process.
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { AdminTokenAuthenticator, clusterAdminToken, loadOrCreateAdminToken } from "./auth/admin-token.js";
import { HttpTransport } from "./cluster/http-transport.js";
import { RaftNode } from "./cluster/raft-node.js";
import { type AppDeps, createApp } from "./http/app.js";
import { SingleNodeLog } from "./log/single-node-log.js";
import { type Logger, silentLogger } from "./logger.js";
import { ConfigService } from "./services/config-service.js";
import { StateMachine } from "./state/state-machine.js";
import { StateStore } from "./state/state-store.js";
import { RaftLogStore } from "./storage/raft-log-store.js";
import { openDatabase } from "./storage/sqlite.js";
import { SqliteRaftStorage } from "./storage/sqlite-raft-storage.js";

export interface DaemonOptions {
  /** host:port; port 0 picks a free port. */
  listen: string;
  dataDir: string;
  maxValueBytes?: number;
  maxBodyBytes?: number;
  logger?: Logger;
  /** Cluster mode: this node's id, every member's URL (itself included), and the shared secret. */
  cluster?: { nodeId: string; peers: Map<string, string>; secret: string };
  /** Called when the write path fails in a way only a restart can repair. */
  onFatal?: (error: Error) => void;
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

/** Open the node's storage and the pieces on top of it (no network). */
export function openNode(dataDir: string, options: { onFatal?: (error: Error) => void } = {}) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raftDb = openDatabase(join(dataDir, "raft.db"), true);
  const stateDb = openDatabase(join(dataDir, "state.db"), false);
  const logStore = new RaftLogStore(raftDb);
  const machine = new StateMachine(new StateStore(stateDb));
  const log = new SingleNodeLog(logStore, machine, options.onFatal);
  const { replayed } = log.open();
  const service = new ConfigService(log, machine);
  return {
    log,
    machine,
    service,
    replayed,
    close: async () => {
      await log.close();
      raftDb.close();
      stateDb.close();
    },
  };
}

/** Open a cluster member: the Raft driver over raft.db and state.db, with the HTTP transport. */
export function openClusterNode(
  dataDir: string,
  cluster: NonNullable<DaemonOptions["cluster"]>,
  logger: Logger,
) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const raftDb = openDatabase(join(dataDir, "raft.db"), true);
  const stateDb = openDatabase(join(dataDir, "state.db"), false);
  const storage = new SqliteRaftStorage(raftDb, [...cluster.peers.keys()].sort());
  // The cluster id: fixed at bootstrap from the secret and the founding members. A data directory
  // of another cluster, or a peer of another cluster, is refused.
  const proposedId = createHash("sha256")
    .update(`${cluster.secret}\n${[...cluster.peers.keys()].sort().join(",")}`)
    .digest("hex")
    .slice(0, 16);
  const clusterId = storage.clusterId(proposedId);
  if (clusterId !== proposedId) {
    raftDb.close();
    throw new Error(
      `${dataDir} belongs to cluster ${clusterId}, but --peers and --cluster-secret describe cluster ${proposedId}; use a new --data-dir or the original flags`,
    );
  }
  const machine = new StateMachine(new StateStore(stateDb));
  const others = new Map([...cluster.peers].filter(([id]) => id !== cluster.nodeId));
  let node: RaftNode | undefined;
  const transport = new HttpTransport(others, cluster.secret, clusterId, logger, (id) =>
    node?.raw.reportUnreachable(id),
  );
  node = new RaftNode({
    id: cluster.nodeId,
    raftDb,
    storage,
    machine,
    transport,
    tickMs: 100,
    electionTick: 10,
  });
  node.start();
  const raft = node;
  return {
    node: raft,
    clusterId,
    machine,
    service: new ConfigService(raft, machine),
    locator: {
      isLeader: () => raft.raw.raft.role === "leader",
      leaderUrl: () => {
        const lead = raft.raw.raft.lead;
        return lead && lead !== cluster.nodeId ? (cluster.peers.get(lead) ?? null) : null;
      },
    },
    handOver: () => raft.handOver(),
    close: async () => {
      await raft.close();
      await transport.close();
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
  let deps: AppDeps;
  let closeNode: () => Promise<void>;
  let handOver: () => Promise<unknown> = async () => false;
  let replayed = 0;
  let token: ReturnType<typeof loadOrCreateAdminToken>;
  if (options.cluster) {
    const cluster = options.cluster;
    const node = openClusterNode(options.dataDir, cluster, logger);
    // Every member derives the same admin token from the cluster secret, so any node takes it.
    token = loadOrCreateAdminToken(options.dataDir, clusterAdminToken(cluster.secret));
    deps = {
      service: node.service,
      authenticator: new AdminTokenAuthenticator(token.token),
      logger,
      ready: () => node.node.raw.raft.lead !== null,
      limits,
      cluster: {
        nodeId: cluster.nodeId,
        secret: cluster.secret,
        clusterId: node.clusterId,
        receive: (m) => node.node.receive(m),
        locator: node.locator,
        control: {
          transferLeadership: (to) => node.node.transferLeadership(to),
          view: () => {
            const raft = node.node.raw.raft;
            return {
              nodeId: cluster.nodeId,
              leader: raft.lead,
              term: raft.term,
              role: raft.role,
              commitIndex: raft.log.committed,
              appliedIndex: node.machine.appliedIndex,
              members: [...cluster.peers].map(([id, url]) => ({ id, url, voter: raft.voters.has(id) })),
            };
          },
        },
      },
    };
    closeNode = node.close;
    handOver = node.handOver;
  } else {
    const node = openNode(options.dataDir, { onFatal: options.onFatal });
    token = loadOrCreateAdminToken(options.dataDir);
    deps = {
      service: node.service,
      authenticator: new AdminTokenAuthenticator(token.token),
      logger,
      ready: () => true,
      limits,
    };
    closeNode = node.close;
    replayed = node.replayed;
  }
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once("error", reject);
  });
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
        await handOver();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        });
        await closeNode();
      })();
      return closing;
    },
  };
}
