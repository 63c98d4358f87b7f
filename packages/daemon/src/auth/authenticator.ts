/** Who is calling. */
export interface Principal {
  subject: string;
  admin: boolean;
}

/** The port the auth middleware asks; real identity (users, tokens, API keys) implements it later. */
export interface Authenticator {
  /** The principal for a bearer token, or null when it is not valid. */
  authenticate(bearer: string): Principal | null;
}
