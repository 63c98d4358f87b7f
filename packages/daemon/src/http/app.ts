import { CfgError, type ClusterView } from "@cfguardian/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Authenticator } from "../auth/authenticator.js";
import type { Logger } from "../logger.js";
import { Metrics } from "../observability/metrics.js";
import type { Message } from "../raft/types.js";
import type { ConfigService } from "../services/config-service.js";
import type { IdentityService } from "../services/identity-service.js";
import type { WatchService } from "../services/watch-service.js";
import { audit } from "./middleware/audit.js";
import { type AuthEnv, authorize } from "./middleware/auth.js";
import { clientAddresses } from "./middleware/client-address.js";
import { errorHandler, notFound } from "./middleware/errors.js";
import { forwardWritesToLeader, type LeaderLocator } from "./middleware/forward-to-leader.js";
import { observe } from "./middleware/observe.js";
import { DEFAULT_RATE_LIMITS, type RateLimits, rateLimits } from "./middleware/rate-limit.js";
import { responseHeaders } from "./middleware/response-headers.js";
import { apiPage, openApiDocument } from "./openapi.js";
import { RULES, roleAtLeast } from "./rbac.js";
import { requestHeader } from "./request.js";
import { apiKeyRoutes } from "./routes/api-keys.js";
import { auditRoutes } from "./routes/audit.js";
import { authRoutes } from "./routes/auth.js";
import { backupRoutes, type TakeImage } from "./routes/backup.js";
import { type ClusterControl, clusterRoutes } from "./routes/cluster.js";
import { configRoutes } from "./routes/configs.js";
import { healthRoutes } from "./routes/health.js";
import { memberRoutes } from "./routes/members.js";
import { projectRoutes } from "./routes/projects.js";
import { pushRoutes } from "./routes/pushes.js";
import { type RaftRouteDeps, raftRoutes } from "./routes/raft.js";
import { readRoutes } from "./routes/read.js";
import { schemaRoutes } from "./routes/schemas.js";
import { tokenRoutes } from "./routes/tokens.js";
import { userRoutes } from "./routes/users.js";
import { settleEverywhere } from "./settle.js";

export interface AppDeps {
  /** Cluster mode: node-to-node routes and forwarding of writes to the leader. */
  cluster?: {
    nodeId: string;
    secret: string;
    clusterId: string;
    receive: (message: Message) => void;
    snapshots?: RaftRouteDeps["snapshots"];
    joinInfo?: RaftRouteDeps["joinInfo"];
    streams?: RaftRouteDeps["streams"];
    locator: LeaderLocator;
    control: ClusterControl;
  };
  service: ConfigService;
  /** Used when there is no identity service: the admin token alone, a cluster admin. */
  authenticator: Authenticator;
  /** Users, roles, tokens, API keys and the audit log; every /v1 route checks its rule in rbac.ts. */
  identity?: IdentityService;
  rateLimits?: RateLimits;
  logger: Logger;
  /** GET /v1/backup: a consistent image of this node's state. */
  backup?: TakeImage;
  /** The app read path (GET /v1/read, GET /v1/watch). */
  watch?: WatchService;
  /** Single-node mode: what GET /v1/cluster shows (one member that always leads). */
  singleView?: () => ClusterView;
  /** Prometheus metrics (GET /metrics) and the per-request span; a fresh registry when absent. */
  metrics?: Metrics;
  ready: () => boolean;
  limits: { maxValueBytes: number; maxBodyBytes: number };
}

/** The HTTP API (DESIGN.md, v1). Routes call the service; they never touch a database. */
export function createApp(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  const metrics = deps.metrics ?? new Metrics();
  // Node-to-node traffic first: it answers before the per-request span, metrics and log below,
  // which would cost more than the Raft messages themselves (Raft has its own: persist, apply, snapshots).
  if (deps.cluster)
    app.route(
      "/",
      raftRoutes({
        secret: deps.cluster.secret,
        clusterId: deps.cluster.clusterId,
        receive: deps.cluster.receive,
        snapshots: deps.cluster.snapshots,
        joinInfo: deps.cluster.joinInfo,
        streams: deps.cluster.streams,
      }),
    );

  app.use(observe(metrics, deps.logger));
  app.use(responseHeaders());
  app.route("/", healthRoutes(deps.ready));
  app.get("/openapi.json", (c) => c.json(openApiDocument));
  app.get("/docs", (c) => c.html(apiPage()));
  // Like etcd's /metrics: unauthenticated, for scrapers; it holds counts, never names or values.
  app.get("/metrics", async (c) =>
    c.body(await metrics.text(), 200, { "content-type": metrics.contentType }),
  );

  const identity = deps.identity;
  if (identity && deps.cluster) {
    const locator = deps.cluster.locator;
    identity.relayTouches(async (bearer) => {
      const leader = locator.leaderUrl();
      if (!leader) throw new Error("no leader known");
      const response = await fetch(`${leader}/v1/auth/me`, {
        headers: { authorization: `Bearer ${bearer}` },
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
    });
  }
  app.use("/v1/*", clientAddresses(deps.cluster?.secret));
  const limitBody = bodyLimit({
    maxSize: deps.limits.maxBodyBytes,
    onError: () => {
      throw new CfgError(
        "payload_too_large",
        `the request body is over ${deps.limits.maxBodyBytes} bytes (cfgd --max-body-bytes)`,
      );
    },
  });
  // A GET or HEAD has no body to limit, and a declared length is checked here; asking Hono would
  // build a whole web Request to find out. A chunked body goes through Hono's limit, which counts.
  app.use("/v1/*", (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const declared = requestHeader(c, "content-length");
    if (declared === undefined || requestHeader(c, "transfer-encoding") !== undefined)
      return limitBody(c, next);
    if (Number(declared) > deps.limits.maxBodyBytes) return limitBody(c, next);
    return next();
  });
  // Writes other than config writes go to the leader before anything else, so that the leader
  // alone authorizes, limits and audits them (with the caller's address, which this node passes
  // on). Config writes are handled here and their entries go to the leader through Raft.
  if (deps.cluster)
    app.use(
      "/v1/*",
      forwardWritesToLeader(deps.cluster.locator, deps.cluster.nodeId, metrics, deps.cluster.secret),
    );
  if (identity)
    app.use("/v1/*", audit(identity.store, deps.logger, { inCommands: identity.store.kind === "embedded" }));
  const limits = rateLimits(deps.rateLimits ?? DEFAULT_RATE_LIMITS, RULES);
  app.use("/v1/*", limits.byAddress);
  app.use(
    "/v1/*",
    authorize(RULES, identity ?? deps.authenticator, async (principal, project) =>
      identity ? identity.roleOf(principal, project) : principal.admin ? "admin" : null,
    ),
  );
  app.use("/v1/*", limits.byCredential);
  if (deps.cluster) app.route("/", clusterRoutes(deps.cluster.control));
  else if (deps.singleView) {
    const view = deps.singleView;
    app.get("/v1/cluster", (c) => c.json(view()));
  }
  if (deps.watch) {
    const id = deps.identity;
    const stillAllowed = id
      ? async (authorization: string | undefined, project: string) => {
          const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
          try {
            const principal =
              bearer === undefined ? null : await id.authenticate(bearer, { allowExpired: true });
            return principal !== null && roleAtLeast(await id.roleOf(principal, project), "viewer");
          } catch {
            return true; // metadata unavailable: keep serving readers until it is back
          }
        }
      : undefined;
    app.route("/", readRoutes(deps.service, deps.watch, stillAllowed));
  }
  if (deps.backup) app.route("/", backupRoutes(deps.backup));
  app.route("/v1/projects", projectRoutes(deps.service, identity));
  if (identity) {
    app.route("/v1/auth", authRoutes(identity));
    app.route("/v1/tokens", tokenRoutes(identity));
    app.route("/v1/users", userRoutes(identity));
    app.route("/v1/audit", auditRoutes(identity.store));
    app.route("/v1/projects", memberRoutes(identity, deps.service));
    const settle = deps.cluster && settleEverywhere(deps.cluster.control.view, deps.cluster.secret);
    app.route("/v1/projects", apiKeyRoutes(identity, deps.service, settle || undefined));
  }
  app.route("/v1/projects", configRoutes(deps.service, deps.limits));
  app.route(
    "/v1/projects",
    pushRoutes(
      deps.service,
      deps.limits,
      identity && ((principal, project) => identity.roleOf(principal, project)),
    ),
  );
  app.route("/v1/projects", schemaRoutes(deps.service));
  app.notFound(notFound);
  app.onError(errorHandler(deps.logger));
  return app;
}
