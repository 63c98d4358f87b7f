import type { Role } from "../metadata/port.js";

/** Who is calling. */
export interface Principal {
  /** The actor recorded in revisions and the audit log: an email, `apikey:<id>`, or `admin`. */
  subject: string;
  /** A cluster admin (the break-glass admin token, or a user marked so). */
  admin: boolean;
  kind: "admin-token" | "user" | "apikey";
  /** kind user: the user's id. */
  userId?: string;
  /** kind user, signed in with a CI token: that token's id. */
  tokenId?: string;
  /** kind user, with an access token from a login: the session (refresh token) id. */
  sessionId?: string;
  /** kind apikey: the one project it may read. */
  project?: string;
}

/** What a principal may do in a project (cluster admins may do everything). */
export type RoleLookup = (principal: Principal, project: string) => Promise<Role | null>;

/** The port the auth middleware asks: admin token, users' access and CI tokens, API keys. */
export interface Authenticator {
  /** The principal for a bearer token, or null when it is not valid (forged, expired, revoked). */
  authenticate(bearer: string): Principal | null | Promise<Principal | null>;
}
