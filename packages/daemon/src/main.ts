/**
 * `cfgd`: one cfguardian node. Parses flags (env CFGD_* as fallbacks), starts the daemon, prints
 * how to use it, and shuts down cleanly on SIGTERM/SIGINT.
 */

import { Command, InvalidArgumentError, Option } from "commander";
import { passwordProblem } from "./auth/password.js";
import {
  type ClusterOptions,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_VALUE_BYTES,
  startDaemon,
} from "./daemon.js";
import { createLogger } from "./logger.js";
import { startTracing } from "./observability/tracing.js";
import { startIdleGc } from "./runtime/idle-gc.js";
import { checkEmail } from "./services/identity-views.js";

// `cfgd backup ...` and `cfgd restore ...` are subcommands; anything else serves.
if (process.argv[2] === "backup" || process.argv[2] === "restore") {
  const { runBackupCli } = await import("./backup-cli.js");
  process.exit(await runBackupCli(process.argv.slice(2)));
}

function positiveInt(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError("must be a positive integer");
  return value;
}

function wholeNumber(raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new InvalidArgumentError("must be a whole number (0 or more)");
  return value;
}

const program = new Command("cfgd")
  .description("cfguardian node: stores configs with their history and serves the HTTP API")
  .addOption(
    new Option("--listen <host:port>", "address to serve").env("CFGD_LISTEN").default("127.0.0.1:7070"),
  )
  .addOption(
    new Option("--data-dir <dir>", "where raft.db, state.db and admin-token live")
      .env("CFGD_DATA_DIR")
      .default("./.cfgd"),
  )
  .addOption(
    new Option("--max-value-bytes <n>", "largest config value (canonical JSON bytes)")
      .env("CFGD_MAX_VALUE_BYTES")
      .default(DEFAULT_MAX_VALUE_BYTES)
      .argParser(positiveInt),
  )
  .addOption(
    new Option("--max-body-bytes <n>", "largest request body (a push carries many values)")
      .env("CFGD_MAX_BODY_BYTES")
      .default(DEFAULT_MAX_BODY_BYTES)
      .argParser(positiveInt),
  )
  .addOption(
    new Option("--log-format <format>", "json lines or readable lines (default: pretty on a terminal)")
      .env("CFGD_LOG_FORMAT")
      .choices(["json", "pretty"]),
  )
  .addOption(
    new Option("--log-level <level>", "least level logged")
      .env("CFGD_LOG_LEVEL")
      .choices(["debug", "info", "warn", "error"])
      .default("info"),
  )
  .addOption(new Option("--node-id <id>", "this node's id in --peers (cluster mode)").env("CFGD_NODE_ID"))
  .addOption(
    new Option("--peers <id=url,...>", "every member of the cluster, this node included (cluster mode)").env(
      "CFGD_PEERS",
    ),
  )
  .addOption(
    new Option("--cluster-secret <secret>", "shared secret for node-to-node routes (cluster mode)").env(
      "CFGD_CLUSTER_SECRET",
    ),
  )
  .addOption(
    new Option("--read-rate-limit <n>", "app reads per second per API key and per address (0: no limit)")
      .env("CFGD_READ_RATE_LIMIT")
      .argParser(wholeNumber)
      .default(500),
  )
  .addOption(
    new Option("--login-rate-limit <n>", "login attempts per minute per address (0: no limit)")
      .env("CFGD_LOGIN_RATE_LIMIT")
      .argParser(wholeNumber)
      .default(30),
  )
  .addOption(
    new Option(
      "--join",
      "join a running cluster that already added this node (cfg cluster add); --peers lists members to contact",
    ).env("CFGD_JOIN"),
  )
  .addOption(
    new Option("--snapshot-count <n>", "applied entries between automatic snapshots of state.db")
      .env("CFGD_SNAPSHOT_COUNT")
      .argParser(positiveInt)
      .default(100_000),
  )
  .addOption(
    new Option(
      "--snapshot-catchup-entries <n>",
      "entries kept in the log behind a snapshot, for followers a little behind",
    )
      .env("CFGD_SNAPSHOT_CATCHUP_ENTRIES")
      .argParser(wholeNumber)
      .default(5_000),
  )
  .addOption(
    new Option(
      "--database-url <url>",
      "PostgreSQL for metadata (users, roles, API keys, audit), shared by every node (?schema=NAME picks a schema); default: embedded in state.db",
    ).env("CFGD_DATABASE_URL"),
  )
  .addHelpText(
    "after",
    "\nOther commands:\n  cfgd backup --to FILE [--server URL --token T | --data-dir DIR]   a consistent backup of a node\n  cfgd restore --from FILE --data-dir DIR                           a new data directory from a backup\n  (cfgd backup --help, cfgd restore --help)",
  )
  .version("0.1.0", "-V, --version")
  .parse();

const options = program.opts<{
  listen: string;
  dataDir: string;
  maxValueBytes: number;
  maxBodyBytes: number;
  logFormat?: "json" | "pretty";
  logLevel: "debug" | "info" | "warn" | "error";
  nodeId?: string;
  peers?: string;
  clusterSecret?: string;
  join?: boolean;
  snapshotCount: number;
  snapshotCatchupEntries: number;
  databaseUrl?: string;
  readRateLimit: number;
  loginRateLimit: number;
}>();

/** `n1=http://127.0.0.1:7071,n2=...` -> Map; exits with a clear message when malformed. */
function parseCluster(): ClusterOptions | undefined {
  if (!options.peers && !options.nodeId) return undefined;
  const fail = (message: string): never => {
    process.stderr.write(`cfgd: ${message}\n`);
    process.exit(2);
  };
  const peers = new Map<string, string>();
  for (const part of (options.peers ?? "").split(",").filter(Boolean)) {
    const match = /^([a-z0-9][a-z0-9-]*)=(https?:\/\/.+)$/.exec(part.trim());
    if (!match) fail(`--peers entry ${JSON.stringify(part)} is not id=http://host:port`);
    peers.set(match![1]!, match![2]!.replace(/\/+$/, ""));
  }
  if (peers.size === 0) fail("cluster mode needs --peers id=url,... listing every member");
  if (!options.nodeId) fail("cluster mode needs --node-id (or CFGD_NODE_ID)");
  if (!options.join && !peers.has(options.nodeId!)) fail("--node-id must name this node's entry in --peers");
  if (!options.clusterSecret || options.clusterSecret.length < 16) {
    fail("cluster mode needs --cluster-secret (or CFGD_CLUSTER_SECRET) of at least 16 characters");
  }
  return {
    nodeId: options.nodeId!,
    peers,
    secret: options.clusterSecret!,
    join: options.join === true,
    snapshotCount: options.snapshotCount,
    catchUpEntries: options.snapshotCatchupEntries,
  };
}
const cluster = parseCluster();

/** The first admin's credentials, checked before anything starts: a bad one would never bootstrap. */
function bootstrapAdmin(): { email: string; password: string } | undefined {
  const email = process.env.CFGD_BOOTSTRAP_ADMIN_EMAIL;
  const password = process.env.CFGD_BOOTSTRAP_ADMIN_PASSWORD;
  if (!email && !password) return undefined;
  const fail = (message: string): never => {
    process.stderr.write(`cfgd: ${message}\n`);
    process.exit(2);
  };
  if (!email || !password)
    fail("set both CFGD_BOOTSTRAP_ADMIN_EMAIL and CFGD_BOOTSTRAP_ADMIN_PASSWORD, or neither");
  try {
    checkEmail(email);
  } catch (error) {
    fail(`CFGD_BOOTSTRAP_ADMIN_EMAIL: ${(error as Error).message}`);
  }
  const problem = passwordProblem(password);
  if (problem) fail(`CFGD_BOOTSTRAP_ADMIN_PASSWORD: ${problem}`);
  return { email: email!, password: password! };
}
const firstAdmin = bootstrapAdmin();
const logger = createLogger({
  format: options.logFormat ?? (process.stderr.isTTY ? "pretty" : "json"),
  level: options.logLevel,
});

try {
  if (cluster && !/service\.instance\.id=/.test(process.env.OTEL_RESOURCE_ATTRIBUTES ?? "")) {
    process.env.OTEL_RESOURCE_ATTRIBUTES = [
      process.env.OTEL_RESOURCE_ATTRIBUTES,
      `service.instance.id=${cluster.nodeId}`,
    ]
      .filter(Boolean)
      .join(",");
  }
  const stopTracing = await startTracing(logger);
  const daemon = await startDaemon({
    listen: options.listen,
    dataDir: options.dataDir,
    maxValueBytes: options.maxValueBytes,
    maxBodyBytes: options.maxBodyBytes,
    rateLimits: { readsPerSecond: options.readRateLimit, loginPerMinute: options.loginRateLimit },
    logger,
    ...(cluster ? { cluster } : {}),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    // Only from the environment: a flag would show the password in the process list.
    ...(firstAdmin ? { bootstrapAdmin: firstAdmin } : {}),
    onFatal: (error) => {
      logger.error("write path failed; exiting so that a restart replays the log in order", {
        error: error.message,
      });
      process.exit(70);
    },
  });
  logger.info("cfgd ready", {
    url: daemon.url,
    dataDir: options.dataDir,
    replayedEntries: daemon.replayed,
    adminTokenFile: daemon.adminTokenFile,
  });
  process.stdout.write(
    `cfgd serving ${daemon.url} (data in ${options.dataDir})\n` +
      `${daemon.adminTokenCreated ? "Created" : "Using"} the admin token in ${daemon.adminTokenFile}. To use it:\n` +
      `  export CFG_SERVER=${daemon.url} CFG_TOKEN=$(cat ${daemon.adminTokenFile})\n` +
      `Users log in with \`cfg login --server ${daemon.url}\` (the first admin: CFGD_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD, or the bootstrap code in the log).\n`,
  );
  const stopIdleGc = startIdleGc(({ rssBefore, rssAfter, ms }) =>
    logger.debug("gave idle memory back", {
      rssBeforeMB: Math.round(rssBefore / 1048576),
      rssAfterMB: Math.round(rssAfter / 1048576),
      pauseMs: Math.round(ms),
    }),
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    stopIdleGc();
    const force = setTimeout(() => {
      logger.warn("in-flight requests did not finish within 10 s; exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    daemon.close().then(
      async () => {
        await stopTracing();
        logger.info("stopped cleanly");
        process.exit(0);
      },
      (error: Error) => {
        logger.error("error while stopping", { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (error) {
  const err = error as NodeJS.ErrnoException;
  if (err.code === "EADDRINUSE") {
    process.stderr.write(
      `cfgd: ${options.listen} is already in use; stop what runs there or pass --listen host:otherport\n`,
    );
  } else {
    process.stderr.write(`cfgd: ${err.message}\n`);
  }
  process.exit(1);
}
