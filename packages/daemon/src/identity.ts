/**
 * Wiring of identity and metadata for one node: the MetadataStore (embedded through the node's
 * Proposer into state.db, or PostgreSQL), the identity service with the node's admin token as a
 * break-glass cluster admin, and first-start bootstrap, retried in the background until it holds
 * (in a cluster only the leader can write, and PostgreSQL may be away).
 */
import { createHmac } from "node:crypto";
import { AdminTokenAuthenticator } from "./auth/admin-token.js";
import type { Proposer } from "./log/proposer.js";
import type { Logger } from "./logger.js";
import { EmbeddedMetadataStore } from "./metadata/embedded/embedded-store.js";
import type { MetadataStore } from "./metadata/port.js";
import { PostgresMetadataStore } from "./metadata/postgres/postgres-store.js";
import { IdentityService } from "./services/identity-service.js";
import type { Db } from "./storage/sqlite.js";

/** `?schema=NAME` in the URL keeps the metadata in that schema (created if missing). */
export function splitSchema(databaseUrl: string): { url: string; schema?: string } {
  let parsed: URL;
  try {
    parsed = new URL(databaseUrl);
  } catch {
    throw new Error("--database-url must be a URL like postgres://user@host:5432/db");
  }
  const schema = parsed.searchParams.get("schema");
  if (schema === null) return { url: databaseUrl };
  parsed.searchParams.delete("schema");
  return { url: parsed.toString(), schema };
}

export async function startIdentity(
  options: { databaseUrl?: string; bootstrapAdmin?: { email: string; password: string } },
  proposer: Proposer,
  stateDb: Db,
  adminToken: string,
  logger: Logger,
  clusterSecret?: string,
) {
  let store: MetadataStore;
  if (options.databaseUrl) {
    const pg = new PostgresMetadataStore(splitSchema(options.databaseUrl));
    try {
      await pg.open();
    } catch (error) {
      logger.warn("the metadata database (PostgreSQL) is unavailable; retrying on use", {
        error: (error as Error).message,
      });
    }
    store = pg;
  } else {
    store = new EmbeddedMetadataStore(proposer, stateDb);
  }
  const service = new IdentityService(store, {
    adminToken: new AdminTokenAuthenticator(adminToken),
    logger,
    // Every member of a cluster knows the same code (a login reaching any node is forwarded to
    // the leader); one node picks its own.
    ...(clusterSecret
      ? {
          bootstrapCode: createHmac("sha256", clusterSecret)
            .update("cfguardian bootstrap code")
            .digest("base64url")
            .slice(0, 24),
        }
      : {}),
  });
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = async (tries: number) => {
    try {
      await service.bootstrap(options.bootstrapAdmin);
    } catch (error) {
      if (stopped) return;
      if (tries % 20 === 19)
        logger.warn("bootstrap of identity still waiting", { error: (error as Error).message });
      timer = setTimeout(() => void attempt(tries + 1), Math.min(250 * (tries + 1), 2_000));
    }
  };
  void attempt(0);
  return {
    service,
    close: async () => {
      stopped = true;
      clearTimeout(timer);
      await store.close();
    },
  };
}
