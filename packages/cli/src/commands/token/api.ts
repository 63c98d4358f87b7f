/** What the token verbs share: the server's answer shapes and paths. */
export interface Token {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}
