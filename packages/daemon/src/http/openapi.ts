/**
 * The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json and rendered for people
 * at GET /docs. A test compares it with the routes the app really registers, both ways, and
 * validates it against the OpenAPI 3.1 schema: a route added or changed without it fails CI.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const int = { type: "integer", minimum: 0 };
const str = { type: "string" };
const nullable = (schema: Schema): Schema => ({ oneOf: [schema, { type: "null" }] });
const obj = (properties: Record<string, Schema>, required: string[] = Object.keys(properties)): Schema => ({
  type: "object",
  properties,
  required,
});

const schemas: Record<string, Schema> = {
  Problem: {
    ...obj(
      {
        type: str,
        title: str,
        status: int,
        detail: str,
        code: {
          type: "string",
          description: "Stable error code",
          examples: ["conflict", "validation_failed", "not_found", "unauthorized", "no_quorum"],
        },
        requestId: str,
      },
      ["title", "status", "code"],
    ),
    description: "RFC 9457 problem details (application/problem+json); extra members depend on the code",
  },
  JsonValue: { description: "Any JSON document" },
  GitProvenance: obj(
    {
      commit: nullable(str),
      branch: nullable(str),
      author: nullable(str),
      message: nullable(str),
      dirty: { type: "boolean" },
    },
    [],
  ),
  ChangeOp: {
    oneOf: [
      obj({ op: { const: "put" }, key: str, value: ref("JsonValue") }),
      obj({ op: { const: "delete" }, key: str }),
    ],
  },
  SchemaBinding: obj({
    name: str,
    match: { type: "string", description: "glob over keys" },
    schema: { type: "object" },
  }),
  PushRequest: obj(
    {
      baseRevision: int,
      changes: { type: "array", items: ref("ChangeOp") },
      schemas: { type: "array", items: ref("SchemaBinding") },
      git: ref("GitProvenance"),
      message: str,
      dryRun: { type: "boolean" },
    },
    ["baseRevision", "changes"],
  ),
  PlannedChange: obj(
    {
      op: { enum: ["put", "delete"] },
      key: str,
      fromVersion: int,
      toVersion: int,
      before: ref("JsonValue"),
      after: ref("JsonValue"),
    },
    ["op", "key", "fromVersion", "toVersion"],
  ),
  PushResult: obj({
    project: str,
    revision: int,
    previousRevision: int,
    applied: { type: "boolean" },
    dryRun: { type: "boolean" },
    changes: { type: "array", items: ref("PlannedChange") },
    schemasChanged: { type: "boolean" },
  }),
  RollbackRequest: obj(
    {
      toRevision: int,
      keys: { type: "array", items: str },
      message: str,
      baseRevision: int,
      dryRun: { type: "boolean" },
    },
    ["toRevision"],
  ),
  Manifest: obj({
    project: str,
    revision: int,
    entries: { type: "object", additionalProperties: obj({ version: int, sha256: str }) },
    schemas: { type: "object", additionalProperties: obj({ match: str, sha256: str }) },
  }),
  ConfigEntry: obj({
    key: str,
    value: ref("JsonValue"),
    version: int,
    revision: int,
    modRevision: int,
    sha256: str,
    updatedAt: { type: "string", format: "date-time" },
  }),
  ConfigList: obj({ project: str, revision: int, items: { type: "array", items: ref("ConfigEntry") } }),
  RevisionRecord: obj({
    project: str,
    revision: int,
    kind: { enum: ["push", "rollback", "put", "delete", "schema"] },
    createdAt: { type: "string", format: "date-time" },
    actor: str,
    message: nullable(str),
    git: nullable(ref("GitProvenance")),
    rollbackTo: nullable(int),
    schemasChanged: { type: "boolean" },
    changes: { type: "array", items: obj({ op: { enum: ["put", "delete"] }, key: str, version: int }) },
  }),
  RevisionList: obj({
    project: str,
    revision: int,
    items: { type: "array", items: ref("RevisionRecord") },
    nextBefore: nullable(int),
  }),
  ProjectInfo: obj({
    name: str,
    revision: int,
    keyCount: int,
    createdAt: { type: "string", format: "date-time" },
  }),
  ProjectList: obj({ items: { type: "array", items: ref("ProjectInfo") } }),
  SchemaList: obj({
    project: str,
    revision: int,
    items: { type: "array", items: { allOf: [ref("SchemaBinding"), obj({ sha256: str })] } },
  }),
  WatchEvent: obj({
    project: str,
    revision: int,
    kind: { enum: ["push", "rollback", "put", "delete", "schema"] },
    createdAt: { type: "string", format: "date-time" },
    actor: str,
    message: nullable(str),
    changes: {
      type: "array",
      items: obj({ op: { enum: ["put", "delete"] }, key: str, version: int, value: ref("JsonValue") }, [
        "op",
        "key",
        "version",
      ]),
    },
  }),
  WatchReset: obj({ project: str, reason: { enum: ["deleted", "compacted"] }, revision: int, message: str }),
  ClusterMember: obj(
    {
      id: str,
      url: str,
      voter: { type: "boolean" },
      promote: { type: "boolean" },
      match: int,
      lastContactMs: int,
    },
    ["id", "url", "voter"],
  ),
  ClusterView: obj({
    nodeId: str,
    leader: nullable(str),
    term: int,
    role: str,
    commitIndex: int,
    appliedIndex: int,
    snapshotIndex: int,
    firstLogIndex: int,
    members: { type: "array", items: ref("ClusterMember") },
  }),
};

const json = (schema: Schema, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});
const errors = {
  "400": problem("Bad request: the body or a parameter is malformed"),
  "401": problem("Missing or invalid bearer token"),
  "404": problem("No such project, key or revision"),
};
const writeErrors = {
  ...errors,
  "409": problem("Conflict: something changed after the base revision"),
  "413": problem("Payload too large"),
  "422": problem("Validation failed against the schemas in force"),
  "503": problem("No quorum, or no leader known: the outcome may be unknown; retry"),
};
const body = (schema: Schema) => ({ required: true, content: { "application/json": { schema } } });

const path = (name: string, description: string, schema: Schema = str) => ({
  name,
  in: "path",
  required: true,
  description,
  schema,
});
const query = (name: string, description: string, schema: Schema = str) => ({
  name,
  in: "query",
  description,
  schema,
});
const project = path("project", "Project name", { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,62}$" });
const key = path("key", "Key: a path inside the project, slashes included");
const consistency = query("consistency", "linearizable (default for these routes) or serializable", {
  enum: ["linearizable", "serializable"],
});
const ifMatch = {
  name: "If-Match",
  in: "header",
  description: 'Write only if the key is at this version ("0": it must not exist); 412 otherwise',
  schema: str,
};

const idParam = path("id", "Id");
const userParam = path("userId", "User id, or the user's email");
const UserView = obj({
  id: str,
  email: str,
  clusterAdmin: { type: "boolean" },
  createdAt: str,
  lockedUntil: nullable(str),
});
const LoginResult = obj({
  accessToken: str,
  refreshToken: str,
  expiresIn: int,
  tokenType: { const: "Bearer" },
  user: UserView,
});
const TokenView = obj({
  id: str,
  kind: { enum: ["refresh", "ci"] },
  name: str,
  createdAt: str,
  expiresAt: nullable(str),
  revokedAt: nullable(str),
});
const ApiKeyView = obj({
  id: str,
  project: str,
  name: str,
  createdAt: str,
  createdBy: str,
  revokedAt: nullable(str),
  lastUsedAt: nullable(str),
});
const MemberView = obj({
  project: str,
  userId: str,
  role: { enum: ["viewer", "editor", "admin"] },
  email: str,
});
const AuditView = obj({
  seq: int,
  id: str,
  at: str,
  actor: str,
  action: str,
  project: nullable(str),
  target: nullable(str),
  address: nullable(str),
  result: { enum: ["ok", "refused", "failed"] },
  detail: nullable(str),
});
const items = (schema: Schema) => obj({ items: { type: "array", items: schema } });
const denied = { "403": problem("The caller lacks the role this route needs") };
const limited = { "429": problem("Too many requests or failed logins: see Retry-After") };

/** Identity and access (users, sessions, tokens, members, API keys, audit). */
const identityPaths = {
  "/v1/auth/login": {
    post: {
      summary: "Log in: a short-lived access token and a refresh token",
      security: [],
      requestBody: body(obj({ email: str, password: str })),
      responses: { "200": json(LoginResult), ...errors, ...limited },
    },
  },
  "/v1/auth/refresh": {
    post: {
      summary: "Trade a refresh token for a new pair (the old one is spent)",
      security: [],
      requestBody: body(obj({ refreshToken: str })),
      responses: { "200": json(LoginResult), ...errors, ...limited },
    },
  },
  "/v1/auth/bootstrap": {
    post: {
      summary: "Create the first cluster admin with the one-time code from the node's log",
      security: [],
      requestBody: body(obj({ code: str, email: str, password: str })),
      responses: { "201": json(UserView, "Created"), ...errors, ...limited },
    },
  },
  "/v1/auth/logout": {
    post: {
      summary: "End this session (its access token stops working) or the given refresh token's",
      responses: { "200": json(obj({ loggedOut: { type: "boolean" } })), ...errors },
    },
  },
  "/v1/auth/me": {
    get: {
      summary: "Who the credential is, and its roles",
      responses: { "200": json({ type: "object" }), ...errors },
    },
  },
  "/v1/auth/password": {
    put: {
      summary: "Change your own password (with the current one); your sessions end",
      requestBody: body(obj({ currentPassword: str, password: str })),
      responses: { "200": json(obj({ updated: str, sessionsEnded: int })), ...errors, ...denied },
    },
  },
  "/v1/auth/signing-keys": {
    post: {
      summary: "Rotate the access-token signing key (tokens of the old key verify until they expire)",
      responses: { "201": json(obj({ id: str }), "Created"), ...errors, ...denied },
    },
  },
  "/v1/tokens": {
    get: { summary: "The caller's CI tokens", responses: { "200": json(items(TokenView)), ...errors } },
    post: {
      summary: "Create a long-lived CI token (shown once)",
      requestBody: body(obj({ name: str, expiresInDays: int }, [])),
      responses: { "201": json(TokenView, "Created"), ...errors },
    },
  },
  "/v1/tokens/{id}": {
    delete: {
      summary: "Revoke a CI token",
      parameters: [idParam],
      responses: { "200": json(obj({ revoked: str })), ...errors },
    },
  },
  "/v1/users": {
    get: { summary: "Users", responses: { "200": json(items(UserView)), ...errors, ...denied } },
    post: {
      summary: "Create a user",
      requestBody: body(
        obj({ email: str, password: str, clusterAdmin: { type: "boolean" } }, ["email", "password"]),
      ),
      responses: { "201": json(UserView, "Created"), ...writeErrors, ...denied },
    },
  },
  "/v1/users/{id}": {
    get: {
      summary: "One user",
      parameters: [idParam],
      responses: { "200": json(UserView), ...errors, ...denied },
    },
    delete: {
      summary: "Delete a user with their memberships and tokens",
      parameters: [idParam],
      responses: { "200": json(obj({ deleted: str })), ...errors, ...denied },
    },
  },
  "/v1/users/{id}/password": {
    put: {
      summary: "Set a user's password; the user's sessions end",
      parameters: [idParam],
      requestBody: body(obj({ password: str })),
      responses: { "200": json(obj({ updated: str, sessionsEnded: int })), ...errors, ...denied },
    },
  },
  "/v1/audit": {
    get: {
      summary: "The audit log of mutations, newest first",
      parameters: [
        query("limit", "At most this many (1-1000, default 100)", int),
        query("before", "Only records before this seq (paging)", int),
        query("project", "Only this project"),
        query("actor", "Only this actor"),
      ],
      responses: {
        "200": json(obj({ items: { type: "array", items: AuditView }, next: nullable(int) })),
        ...errors,
        ...denied,
      },
    },
  },
  "/v1/projects/{project}/members": {
    get: {
      summary: "A project's members",
      parameters: [project],
      responses: { "200": json(items(MemberView)), ...errors, ...denied },
    },
  },
  "/v1/projects/{project}/members/{userId}": {
    put: {
      summary: "Give a user a role in the project",
      parameters: [project, userParam],
      requestBody: body(obj({ role: { enum: ["viewer", "editor", "admin"] } })),
      responses: { "200": json(obj({ project: str, userId: str, role: str })), ...writeErrors, ...denied },
    },
    delete: {
      summary: "Remove a member",
      parameters: [project, userParam],
      responses: { "200": json(obj({ removed: str })), ...errors, ...denied },
    },
  },
  "/v1/projects/{project}/api-keys": {
    get: {
      summary: "A project's API keys (never the keys themselves)",
      parameters: [project],
      responses: { "200": json(items(ApiKeyView)), ...errors, ...denied },
    },
    post: {
      summary: "Create a read-only API key (cfgk_..., shown once)",
      parameters: [project],
      requestBody: body(obj({ name: str })),
      responses: { "201": json(ApiKeyView, "Created"), ...writeErrors, ...denied },
    },
  },
  "/v1/projects/{project}/api-keys/{id}": {
    delete: {
      summary: "Revoke an API key; in a cluster the answer waits (3 s at most) until every member applied it",
      parameters: [project, idParam],
      responses: {
        "200": json(
          obj({ revoked: str, everywhere: { type: "boolean", description: "every member applied it" } }),
        ),
        ...errors,
        ...denied,
      },
    },
  },
};

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "cfguardian cfgd API",
    version: "1.0.0",
    description:
      "The HTTP API of a cfgd node. Every /v1 route but login, refresh and bootstrap needs `Authorization: Bearer <token>` (an access token, a CI token, an API key for app reads, or the node's admin token) and the role its operation needs. Any node takes any request: a config write is proposed through Raft from the node that takes it, other writes are forwarded to the leader; reads are linearizable unless `?consistency=serializable`. Errors are application/problem+json with a stable `code`.",
  },
  servers: [{ url: "http://127.0.0.1:7070" }],
  security: [{ bearer: [] }],
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas,
  },
  paths: {
    ...identityPaths,
    "/healthz": {
      get: { summary: "The process runs", security: [], responses: { "200": json(obj({ status: str })) } },
    },
    "/readyz": {
      get: {
        summary:
          "The node serves: log replayed; in a cluster it knows a live leader and is at most 1,000 entries from applying what it knows committed",
        security: [],
        responses: { "200": json(obj({ status: str })), "503": json(obj({ status: str }), "Not ready") },
      },
    },
    "/metrics": {
      get: {
        summary: "Prometheus metrics (text exposition format)",
        security: [],
        responses: { "200": { description: "OK", content: { "text/plain": { schema: str } } } },
      },
    },
    "/openapi.json": {
      get: { summary: "This document", security: [], responses: { "200": json({ type: "object" }) } },
    },
    "/docs": {
      get: {
        summary: "This document as a page for people",
        security: [],
        responses: { "200": { description: "OK", content: { "text/html": { schema: str } } } },
      },
    },
    "/v1/projects": {
      get: {
        summary: "List projects",
        parameters: [consistency],
        responses: { "200": json(ref("ProjectList")), ...errors },
      },
      post: {
        summary: "Create a project",
        requestBody: body(obj({ name: str })),
        responses: { "201": json(ref("ProjectInfo"), "Created"), ...writeErrors },
      },
    },
    "/v1/projects/{project}": {
      get: {
        summary: "One project",
        parameters: [project, consistency],
        responses: { "200": json(ref("ProjectInfo")), ...errors },
      },
      delete: {
        summary: "Delete a project with all its configs and history",
        parameters: [project],
        responses: { "200": json(obj({ deleted: str })), ...writeErrors },
      },
    },
    "/v1/projects/{project}/manifest": {
      get: {
        summary: "Every key's version and SHA-256, and the schema set's hashes (what `cfg diff` compares)",
        parameters: [project, consistency],
        responses: { "200": json(ref("Manifest")), ...errors },
      },
    },
    "/v1/projects/{project}/configs": {
      get: {
        summary: "Configs under a prefix",
        parameters: [
          project,
          consistency,
          query("prefix", "Only keys starting with this"),
          query("values", "false: leave values out", { enum: ["true", "false"] }),
        ],
        responses: { "200": json(ref("ConfigList")), ...errors },
      },
    },
    "/v1/projects/{project}/configs/{key}": {
      get: {
        summary: "One config (ETag: its version; If-None-Match gives 304)",
        parameters: [
          project,
          key,
          consistency,
          query("revision", "Read the key as it was at this project revision", int),
        ],
        responses: { "200": json(ref("ConfigEntry")), "304": { description: "Not modified" }, ...errors },
      },
      put: {
        summary: "Write one key: the body is the value itself",
        parameters: [project, key, ifMatch],
        requestBody: body(ref("JsonValue")),
        responses: {
          "200": json(ref("PushResult")),
          "412": problem("The If-Match version does not hold"),
          ...writeErrors,
        },
      },
      delete: {
        summary: "Delete one key",
        parameters: [project, key, ifMatch],
        responses: {
          "200": json(ref("PushResult")),
          "412": problem("The If-Match version does not hold"),
          ...writeErrors,
        },
      },
    },
    "/v1/projects/{project}/pushes": {
      get: {
        summary: "Revisions, newest first",
        parameters: [
          project,
          consistency,
          query("limit", "At most this many (1-1000, default 50)", int),
          query("before", "Only revisions before this one (paging)", int),
        ],
        responses: { "200": json(ref("RevisionList")), ...errors },
      },
      post: {
        summary: "Apply an atomic set of puts and deletes (and the schema set) as one revision",
        parameters: [project],
        requestBody: body(ref("PushRequest")),
        responses: { "200": json(ref("PushResult")), ...writeErrors },
      },
    },
    "/v1/projects/{project}/pushes/{revision}": {
      get: {
        summary: "One revision",
        parameters: [project, path("revision", "Revision number", int), consistency],
        responses: { "200": json(ref("RevisionRecord")), ...errors },
      },
    },
    "/v1/projects/{project}/rollback": {
      post: {
        summary: "A new revision whose content equals an earlier one (whole project or some keys)",
        parameters: [project],
        requestBody: body(ref("RollbackRequest")),
        responses: { "200": json(ref("PushResult")), ...writeErrors },
      },
    },
    "/v1/projects/{project}/schemas": {
      get: {
        summary: "The schema set in force",
        parameters: [project, consistency],
        responses: { "200": json(ref("SchemaList")), ...errors },
      },
    },
    "/v1/projects/{project}/schemas/{name}": {
      put: {
        summary: "Bind a schema to a key pattern (a new revision)",
        parameters: [project, path("name", "Schema binding name")],
        requestBody: body(obj({ match: str, schema: { type: "object" } })),
        responses: { "200": json(ref("PushResult")), ...writeErrors },
      },
      delete: {
        summary: "Remove a schema binding (a new revision)",
        parameters: [project, path("name", "Schema binding name")],
        responses: { "200": json(ref("PushResult")), ...writeErrors },
      },
    },
    "/v1/read/{project}/{key}": {
      get: {
        summary:
          "App read of one config: serializable by default (this node's state), ETag and If-None-Match; with wait and index it blocks until the key changes after revision index (then 304 with X-Cfg-Revision if nothing changed)",
        parameters: [
          project,
          key,
          query("consistency", "serializable (default) or linearizable", {
            enum: ["serializable", "linearizable"],
          }),
          query("wait", "Block up to this long (like 30s; at most 5m); needs index"),
          query("index", "The revision last read (X-Cfg-Revision): wait for a change after it", int),
          {
            name: "If-None-Match",
            in: "header",
            description: "The ETag last read: 304 if unchanged",
            schema: str,
          },
        ],
        responses: {
          "200": json(ref("ConfigEntry")),
          "304": { description: "Not modified / nothing changed" },
          ...errors,
        },
      },
    },
    "/v1/watch/{project}": {
      get: {
        summary:
          "Server-sent events, one `revision` event per applied revision (id = revision), `: heartbeat` comments, and a `reset` event when the stream cannot go on; resumable on any node with Last-Event-ID",
        parameters: [
          project,
          query("fromRevision", "First revision to send (default: only new ones)", int),
          query("prefix", "Only changes of keys starting with this"),
          query("values", "true: include each changed key's new value", { enum: ["true", "false"] }),
          query("heartbeat", "Heartbeat interval (default 15s)"),
          { name: "Last-Event-ID", in: "header", description: "Resume after this revision", schema: str },
        ],
        responses: {
          "200": { description: "An event stream", content: { "text/event-stream": { schema: str } } },
          ...errors,
        },
      },
    },
    "/v1/backup": {
      get: {
        summary:
          "A consistent backup of this node's state: a CFGBACKUP header line (applied index, size, SHA-256) then the SQLite image (cfgd backup writes it; cfgd restore reads it)",
        responses: {
          "200": { description: "The backup file", content: { "application/octet-stream": { schema: str } } },
          ...errors,
        },
      },
    },
    "/v1/cluster": {
      get: {
        summary: "The answering node's view: members, leader, term, indexes",
        responses: { "200": json(ref("ClusterView")), ...errors },
      },
    },
    "/v1/cluster/members": {
      post: {
        summary: "Add a member as a learner; with voter (default) the leader promotes it once caught up",
        requestBody: body(obj({ id: str, url: str, voter: { type: "boolean" } }, ["id", "url"])),
        responses: {
          "200": json(
            obj({ member: ref("ClusterMember"), unchanged: { type: "boolean" } }),
            "Already as asked",
          ),
          "201": json(obj({ member: ref("ClusterMember") }), "Added"),
          ...writeErrors,
        },
      },
    },
    "/v1/cluster/members/{id}": {
      delete: {
        summary: "Remove a member (the leader too: it steps down)",
        parameters: [path("id", "Member id")],
        responses: {
          "200": json(obj({ removed: str, members: { type: "array", items: ref("ClusterMember") } })),
          ...writeErrors,
        },
      },
    },
    "/v1/cluster/transfer-leadership": {
      post: {
        summary: "Move leadership to another voter",
        requestBody: body(obj({ to: str })),
        responses: { "200": json(obj({ leader: nullable(str) })), ...writeErrors },
      },
    },
    "/v1/cluster/snapshot": {
      post: {
        summary: "Snapshot this node's state now and compact its log (not forwarded)",
        responses: { "200": json(obj({ index: int, bytes: int, compactedTo: int })), ...errors },
      },
    },
  },
};

/** Node-to-node routes: not part of the public API, and listed so the route test knows them. */
export const INTERNAL_ROUTES = [
  "POST /raft/v1/messages",
  "POST /raft/v1/stream",
  "POST /raft/v1/snapshot",
  "GET /raft/v1/join-info",
];

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);

/** A plain, self-contained HTML page listing every operation (no script, no external assets). */
export function apiPage(): string {
  const rows: string[] = [];
  for (const [route, operations] of Object.entries(openApiDocument.paths)) {
    for (const [method, op] of Object.entries(operations as Record<string, Record<string, unknown>>)) {
      const params = ((op.parameters as { name: string; in: string; description?: string }[]) ?? [])
        .map(
          (p) => `<li><code>${escapeHtml(p.name)}</code> (${p.in}) ${escapeHtml(p.description ?? "")}</li>`,
        )
        .join("");
      const responses = Object.entries(op.responses as Record<string, { description: string }>)
        .map(([status, r]) => `<li><code>${status}</code> ${escapeHtml(r.description)}</li>`)
        .join("");
      rows.push(
        `<section><h3><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(route)}</code></h3><p>${escapeHtml(
          String(op.summary ?? ""),
        )}</p>${params ? `<h4>Parameters</h4><ul>${params}</ul>` : ""}<h4>Responses</h4><ul>${responses}</ul></section>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(openApiDocument.info.title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd;padding:.5rem 0}.m{font-weight:700;color:#155}code{background:#f4f4f4;padding:0 .2rem}</style>
</head><body><h1>${escapeHtml(openApiDocument.info.title)}</h1><p>${escapeHtml(openApiDocument.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${openApiDocument.openapi}).</p>
${rows.join("\n")}</body></html>`;
}
