import { randomBytes } from "node:crypto";

/**
 * An audit record's id: a UUID in RFC 9562's version 7 layout (48 bits of Unix milliseconds, then
 * random bits). Records made later sort later, so the audit log's unique index on the id grows
 * at its end, in pages that stay cached, instead of at a random page per record: with random
 * (version 4) ids that one insert was the most expensive statement a follower ran per write.
 */
export function auditId(ms: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Math.max(0, Math.min(ms, 2 ** 48 - 1)), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
