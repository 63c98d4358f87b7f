import { CfgError } from "@cfguardian/shared";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import type { Authenticator } from "../auth/authenticator.js";
import type { Logger } from "../logger.js";
import type { Message } from "../raft/types.js";
import type { ConfigService } from "../services/config-service.js";
import { type AuthEnv, requireAuth } from "./middleware/auth.js";
import { errorHandler, notFound } from "./middleware/errors.js";
import { forwardWritesToLeader, type LeaderLocator } from "./middleware/forward-to-leader.js";
import { requestLog } from "./middleware/request-log.js";
import { type ClusterControl, clusterRoutes } from "./routes/cluster.js";
import { configRoutes } from "./routes/configs.js";
import { healthRoutes } from "./routes/health.js";
import { projectRoutes } from "./routes/projects.js";
import { pushRoutes } from "./routes/pushes.js";
import { raftRoutes } from "./routes/raft.js";
import { schemaRoutes } from "./routes/schemas.js";

export interface AppDeps {
  /** Cluster mode: node-to-node routes and forwarding of writes to the leader. */
  cluster?: {
    nodeId: string;
    secret: string;
    clusterId: string;
    receive: (message: Message) => void;
    locator: LeaderLocator;
    control: ClusterControl;
  };
  service: ConfigService;
  authenticator: Authenticator;
  logger: Logger;
  ready: () => boolean;
  limits: { maxValueBytes: number; maxBodyBytes: number };
}

/** The HTTP API (DESIGN.md, v1). Routes call the service; they never touch a database. */
export function createApp(deps: AppDeps): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.use(requestLog(deps.logger));
  app.use(secureHeaders());
  app.route("/", healthRoutes(deps.ready));
  if (deps.cluster)
    app.route("/", raftRoutes(deps.cluster.secret, deps.cluster.clusterId, deps.cluster.receive));
  app.use("/v1/*", requireAuth(deps.authenticator));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: deps.limits.maxBodyBytes,
      onError: () => {
        throw new CfgError(
          "payload_too_large",
          `the request body is over ${deps.limits.maxBodyBytes} bytes (cfgd --max-body-bytes)`,
        );
      },
    }),
  );
  if (deps.cluster) app.use("/v1/*", forwardWritesToLeader(deps.cluster.locator, deps.cluster.nodeId));
  if (deps.cluster) app.route("/", clusterRoutes(deps.cluster.control));
  app.route("/v1/projects", projectRoutes(deps.service));
  app.route("/v1/projects", configRoutes(deps.service, deps.limits));
  app.route("/v1/projects", pushRoutes(deps.service, deps.limits));
  app.route("/v1/projects", schemaRoutes(deps.service));
  app.notFound(notFound);
  app.onError(errorHandler(deps.logger));
  return app;
}
