/**
 * What the identity service shows of its records (never a hash) and how it checks the names and
 * emails it is given: shared by the service and its routes.
 */
import { CfgError } from "@cfguardian/shared";
import { type ApiKeyRecord, ROLES, type Role, type TokenRecord, type UserRecord } from "../metadata/port.js";

export const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

export interface PublicUser {
  id: string;
  email: string;
  clusterAdmin: boolean;
  createdAt: string;
  lockedUntil: string | null;
}

export interface PublicApiKey {
  id: string;
  project: string;
  name: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface PublicToken {
  id: string;
  kind: TokenRecord["kind"];
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: "Bearer";
  user: PublicUser;
}

export const publicUser = (u: UserRecord): PublicUser => ({
  id: u.id,
  email: u.email,
  clusterAdmin: u.clusterAdmin,
  createdAt: u.createdAt,
  lockedUntil: u.lockedUntil,
});

export const publicKey = ({ hash: _h, ...k }: ApiKeyRecord): PublicApiKey => k;
export const publicToken = ({ hash: _h, userId: _u, ...t }: TokenRecord): PublicToken => t;

export function checkEmail(email: unknown): string {
  if (typeof email !== "string" || !EMAIL.test(email))
    throw new CfgError("bad_request", "email must look like name@domain");
  return email.toLowerCase();
}

export function checkName(name: unknown, what: string): string {
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new CfgError("bad_request", `${what} must be 1-64 letters, digits, spaces, '.', '_' or '-'`);
  }
  return name;
}

export function checkRole(role: unknown): Role {
  if (!ROLES.includes(role as Role))
    throw new CfgError("bad_request", `role must be one of ${ROLES.join(", ")}`);
  return role as Role;
}
