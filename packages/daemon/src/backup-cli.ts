/**
 * `cfgd backup` and `cfgd restore`: the subcommands of cfgd that do not serve.
 *
 *   cfgd backup --to FILE [--server URL] [--token T]    a live node, over its API (GET /v1/backup)
 *   cfgd backup --to FILE --data-dir DIR                a local data directory (running or not)
 *   cfgd restore --from FILE --data-dir DIR             a new data directory from a backup
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Command, Option } from "commander";
import { backupStream, inspectBackup, restoreBackup, saveBackup, takeImage } from "./storage/backup.js";
import { openDatabase } from "./storage/sqlite.js";

async function backupOnline(server: string, token: string | undefined, to: string) {
  if (!token) throw new Error("cfgd backup over the API needs --token or CFG_TOKEN (an admin token)");
  const response = await fetch(`${server.replace(/\/+$/, "")}/v1/backup`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200 || !response.body) {
    throw new Error(`${server} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  return saveBackup(Readable.fromWeb(response.body as never), to);
}

async function backupLocal(dataDir: string, to: string) {
  const file = join(dataDir, "state.db");
  if (!existsSync(file)) throw new Error(`${dataDir} has no state.db; is it a cfgd data directory?`);
  // What raft.db says: the cluster's identity, and whether state.db has applied all it committed.
  let identity: { clusterId: string | null; nodeId: string | null } = { clusterId: null, nodeId: null };
  let commit = 0;
  const raftFile = join(dataDir, "raft.db");
  if (existsSync(raftFile)) {
    const raft = openDatabase(raftFile, false);
    try {
      const meta = (k: string) =>
        (raft.prepare("SELECT v FROM cluster_meta WHERE k = ?").pluck().get(k) as string | undefined) ?? null;
      identity = { clusterId: meta("cluster_id"), nodeId: meta("node_id") };
      commit =
        (raft.prepare("SELECT commit_index FROM hard_state WHERE id = 1").pluck().get() as number) ?? 0;
    } catch {
      // an older or empty raft.db: nothing to compare
    } finally {
      raft.close();
    }
  }
  const db = openDatabase(file, false);
  try {
    const applied = Number(
      (db.prepare("SELECT v FROM meta WHERE k = 'applied_index'").pluck().get() as string | undefined) ?? 0,
    );
    if (applied < commit) {
      throw new Error(
        `${dataDir}: state.db has applied ${applied} of the ${commit} committed entries (the node stopped before applying them); start it once so it catches up, or back up a running node over its API`,
      );
    }
    const image = takeImage(db, dataDir, identity);
    try {
      return await saveBackup(backupStream(image.header, image.path), to);
    } finally {
      image.cleanup();
    }
  } finally {
    db.close();
  }
}

/** `n1=http://...,n2=...` -> Map. */
function parsePeers(raw: string): Map<string, string> {
  const peers = new Map<string, string>();
  for (const part of raw.split(",").filter(Boolean)) {
    const match = /^([a-z0-9][a-z0-9-]*)=(https?:\/\/.+)$/.exec(part.trim());
    if (!match) throw new Error(`--peers entry ${JSON.stringify(part)} is not id=http://host:port`);
    peers.set(match[1]!, match[2]!.replace(/\/+$/, ""));
  }
  return peers;
}

export async function runBackupCli(argv: string[]): Promise<number> {
  const program = new Command("cfgd").exitOverride();
  let code = 0;
  program
    .command("backup")
    .description(
      "write a consistent backup of a node's state (a live node over its API, or a data directory)",
    )
    .requiredOption("--to <file>", "the backup file to write (written atomically)")
    .addOption(
      new Option("--server <url>", "the node to back up").env("CFG_SERVER").default("http://127.0.0.1:7070"),
    )
    .addOption(new Option("--token <token>", "an admin token").env("CFG_TOKEN"))
    .option("--data-dir <dir>", "back up this local data directory instead of asking a server")
    .action(async (options: { to: string; server: string; token?: string; dataDir?: string }) => {
      const header = options.dataDir
        ? await backupLocal(options.dataDir, options.to)
        : await backupOnline(options.server, options.token, options.to);
      process.stdout.write(
        `Wrote ${options.to}: state at applied index ${header.appliedIndex}, ${header.size} bytes, sha256 ${header.sha256.slice(0, 16)}…\n`,
      );
    });
  program
    .command("restore")
    .description("make a new data directory from a backup (then start cfgd on it)")
    .requiredOption("--from <file>", "the backup file")
    .requiredOption("--data-dir <dir>", "a new or empty data directory")
    .addOption(new Option("--node-id <id>", "for a new cluster: this founder's id").env("CFGD_NODE_ID"))
    .addOption(
      new Option("--peers <id=url,...>", "for a new cluster: every founder, as cfgd --peers").env(
        "CFGD_PEERS",
      ),
    )
    .addOption(
      new Option("--cluster-secret <secret>", "for a new cluster: its secret").env("CFGD_CLUSTER_SECRET"),
    )
    .option("--check", "only check the file (header and SHA-256); write nothing")
    .action(
      (options: {
        from: string;
        dataDir: string;
        nodeId?: string;
        peers?: string;
        clusterSecret?: string;
        check?: boolean;
      }) => {
        if (options.check) {
          const { header } = inspectBackup(options.from);
          process.stdout.write(`${options.from} is a good backup: ${JSON.stringify(header)}\n`);
          return;
        }
        let cluster: { nodeId: string; peers: Map<string, string>; secret: string } | undefined;
        if (options.nodeId || options.peers) {
          if (!options.nodeId || !options.peers)
            throw new Error("a cluster restore needs both --node-id and --peers");
          if (!options.clusterSecret || options.clusterSecret.length < 16) {
            throw new Error(
              "a cluster restore needs --cluster-secret (or CFGD_CLUSTER_SECRET) of at least 16 characters",
            );
          }
          cluster = {
            nodeId: options.nodeId,
            peers: parsePeers(options.peers),
            secret: options.clusterSecret,
          };
        }
        const { header, projects, keys } = restoreBackup(options.from, options.dataDir, cluster);
        process.stdout.write(
          `Restored ${projects} projects and ${keys} keys (backup of applied index ${header.appliedIndex}, taken ${header.createdAt}) into ${options.dataDir}.\n` +
            (cluster
              ? `Restore the same file on every other founder (${[...cluster.peers.keys()].filter((id) => id !== cluster!.nodeId).join(", ")}) with its --node-id, then start them all with the same --peers and --cluster-secret.\n`
              : "Start it with: cfgd --data-dir DIR (a new cluster: restore with --node-id, --peers and --cluster-secret).\n"),
        );
      },
    );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    const err = error as { code?: string; exitCode?: number; message: string };
    if (err.code?.startsWith("commander.")) return err.exitCode === 0 ? 0 : 2;
    process.stderr.write(`cfgd: ${err.message}\n`);
    code = 1;
  }
  return code;
}
