/**
 * The metadata commands of the embedded adapter. They travel in the replicated log like config
 * commands (`{type: "metadata", op}` in state/commands.ts) and every node applies them to its
 * state.db with `applyMetadataOp`; ids and times are fixed by the proposer.
 */
import type {
  ApiKeyRecord,
  MemberRecord,
  NewAuditRecord,
  SigningKeyRecord,
  TokenRecord,
  UserRecord,
} from "../port.js";

export type MetadataOp =
  | { op: "create-user"; user: UserRecord }
  | { op: "delete-user"; id: string }
  | { op: "set-login-state"; userId: string; failedLogins: number; lockedUntil: string | null }
  | { op: "set-password"; userId: string; passwordHash: string }
  | { op: "set-member"; member: MemberRecord }
  | { op: "remove-member"; project: string; userId: string }
  | { op: "remove-project"; project: string }
  | { op: "create-api-key"; key: ApiKeyRecord }
  | { op: "revoke-api-key"; project: string; id: string; at: string }
  | { op: "touch-api-key"; id: string; at: string }
  | { op: "create-token"; token: TokenRecord }
  | { op: "revoke-token"; id: string; at: string }
  | { op: "rotate-token"; id: string; oldHash: string; newHash: string; expiresAt: string | null }
  | { op: "rotate-signing-key"; key: SigningKeyRecord }
  | { op: "append-audit"; record: NewAuditRecord };
