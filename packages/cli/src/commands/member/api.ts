/** What the member verbs share: the server's answer shapes and paths. */
export const ROLES = ["viewer", "editor", "admin"];

export const membersPath = (project: string, user?: string) =>
  `/v1/projects/${encodeURIComponent(project)}/members${user ? `/${encodeURIComponent(user)}` : ""}`;
