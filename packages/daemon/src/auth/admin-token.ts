import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Authenticator, Principal } from "./authenticator.js";

export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * Read `<dataDir>/admin-token`, creating it on first start: 32 random bytes, written to a temp
 * file with mode 0600, fsynced, then renamed, so a crash never leaves a half-written token.
 */
export function loadOrCreateAdminToken(
  dataDir: string,
  fixed?: string,
): { token: string; created: boolean; file: string } {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const token = readFileSync(file, "utf8").trim();
    if (token && (fixed === undefined || token === fixed)) return { token, created: false, file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const token = fixed ?? `cfgt_${randomBytes(32).toString("base64url")}`;
  const temp = `${file}.tmp-${process.pid}`;
  const fd = openSync(temp, "w", 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  return { token, created: true, file };
}

/** The admin token every member of a cluster derives from the cluster secret. */
export function clusterAdminToken(secret: string): string {
  return `cfgt_${createHmac("sha256", secret).update("cfguardian admin token").digest("base64url")}`;
}

/**
 * Until users and roles exist: one admin token, compared in constant time. Every request with a
 * bearer is checked here first, so the bytes are compared as they are: a SHA-256 of each bearer
 * (to compare digests of equal length) was a twentieth of a small read's CPU. Only the length can
 * end the comparison early, and the token's length is no secret (cfgt_ and 43 characters).
 */
export class AdminTokenAuthenticator implements Authenticator {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = Buffer.from(token, "utf8");
  }

  authenticate(bearer: string): Principal | null {
    const given = Buffer.from(bearer, "utf8");
    return given.length === this.expected.length && timingSafeEqual(given, this.expected)
      ? { subject: "admin", admin: true, kind: "admin-token" }
      : null;
  }
}
