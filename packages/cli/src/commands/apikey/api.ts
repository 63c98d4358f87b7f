/** What the apikey verbs share: the server's answer shapes and paths. */
export interface ApiKey {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export const keysPath = (project: string, id?: string) =>
  `/v1/projects/${encodeURIComponent(project)}/api-keys${id ? `/${encodeURIComponent(id)}` : ""}`;
