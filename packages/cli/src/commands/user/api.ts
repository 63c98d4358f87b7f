/** What the user verbs share: the server's answer shapes and paths. */
export interface User {
  id: string;
  email: string;
  clusterAdmin: boolean;
  createdAt: string;
  lockedUntil: string | null;
}
