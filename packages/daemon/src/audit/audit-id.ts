import { randomUUID } from "node:crypto";

/**
 * An audit record's id: a UUID in RFC 9562's version 7 layout (48 bits of Unix milliseconds, then
 * random bits). Records made later sort later, so the audit log's unique index on the id grows
 * at its end, in pages that stay cached, instead of at a random page per record: with random
 * (version 4) ids that one insert was the most expensive statement a follower ran per write.
 *
 * The random bits are a version 4 UUID's (74 of its 122): Node draws those from a pooled buffer,
 * where randomBytes(16) per id made a system call each time (2% of a leader's time under writes).
 */
export function auditId(ms: number = Date.now()): string {
  const random = randomUUID(); // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V already the RFC variant
  const time = Math.max(0, Math.min(Math.trunc(ms), 2 ** 48 - 1))
    .toString(16)
    .padStart(12, "0");
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
