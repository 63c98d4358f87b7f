/**
 * The app read path: GET /v1/read/{project}/{key} (serializable by default, ETag, blocking reads
 * with ?wait=&index= like Consul's) and GET /v1/watch/{project} (server-sent events, one per
 * applied revision, resumable with Last-Event-ID on any node).
 */
import { CfgError, type ConfigEntry, type WatchEvent } from "@cfguardian/shared";
import { Hono } from "hono";
import type { ConfigService } from "../../services/config-service.js";
import { MAX_WAIT_MS, type WatchService } from "../../services/watch-service.js";
import { eventStream, sseMessage } from "../event-stream.js";
import type { AuthEnv } from "../middleware/auth.js";
import { consistencyParam, intQuery, keyParam, projectParam, requestHeader } from "../request.js";
import { setHeader } from "../response.js";

const etag = (version: number) => `"${version}"`;

/** "30s", "2m", "1500ms" or a number of seconds -> ms; capped. */
export function parseDuration(raw: string | undefined, name: string, max: number): number | undefined {
  if (raw === undefined || raw === "") return undefined;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw);
  if (!match)
    throw new CfgError(
      "bad_request",
      `${name} must be a duration like 30s, 2m or 500ms, not ${JSON.stringify(raw)}`,
    );
  const n = Number(match[1]);
  const ms = match[2] === "ms" ? n : match[2] === "m" ? n * 60_000 : n * 1000;
  return Math.min(Math.round(ms), max);
}

/**
 * `stillAllowed`: asked before each batch of watch events with the stream's Authorization header;
 * false (a revoked key, an ended session, a removed member) ends the stream, so revoking access
 * cuts open watches too.
 */
/** An event's SSE message, made once for all the watchers it is sent to (events are shared, see eventsAfter). */
const texts = new WeakMap<WatchEvent, string>();
const serialized = (event: WatchEvent): string => {
  let text = texts.get(event);
  if (text === undefined) {
    text = sseMessage("revision", JSON.stringify(event), String(event.revision));
    texts.set(event, text);
  }
  return text;
};

export function readRoutes(
  service: ConfigService,
  watch: WatchService,
  stillAllowed?: (authorization: string | undefined, project: string) => Promise<boolean>,
) {
  return new Hono<AuthEnv>()
    .get("/v1/read/:project/:key{.+}", async (c) => {
      const project = projectParam(c);
      const key = keyParam(c);
      const consistency = consistencyParam(c, "serializable");
      const waitMs = parseDuration(c.req.query("wait"), "wait", MAX_WAIT_MS);
      const index = intQuery(c, "index");
      if (waitMs !== undefined && index === undefined) {
        throw new CfgError("bad_request", "wait needs index: the revision you last read (X-Cfg-Revision)");
      }
      if (waitMs !== undefined && index !== undefined) {
        if (consistency === "linearizable") await service.read("linearizable", () => null);
        const { changed } = await watch.waitForKey(project, key, index, waitMs, c.req.raw.signal);
        // Access may have been revoked while the read waited.
        if (stillAllowed && !(await stillAllowed(requestHeader(c, "authorization"), project))) {
          throw new CfgError("unauthorized", "the credential was revoked while the read waited");
        }
        if (!changed) {
          // Nothing changed while we waited: 304 with the revision to wait from next time.
          setHeader(c, "X-Cfg-Revision", String(watch.projectRevision(project) ?? index));
          return c.body(null, 304);
        }
      }
      let entry: ConfigEntry;
      try {
        entry = await service.read(waitMs !== undefined ? "serializable" : consistency, () =>
          service.getConfig(project, key),
        );
      } catch (error) {
        const revision = watch.projectRevision(project);
        if (revision !== null) setHeader(c, "X-Cfg-Revision", String(revision));
        throw error;
      }
      setHeader(c, "X-Cfg-Revision", String(entry.revision));
      setHeader(c, "ETag", etag(entry.version));
      setHeader(c, "Cache-Control", "no-cache");
      const inm = requestHeader(c, "if-none-match");
      if (inm?.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag(entry.version))) {
        return c.body(null, 304);
      }
      return c.json(entry);
    })
    .get("/v1/watch/:project", async (c) => {
      const project = projectParam(c);
      const prefix = c.req.query("prefix");
      const values = c.req.query("values") === "true";
      const heartbeatMs = parseDuration(c.req.query("heartbeat"), "heartbeat", 60_000) ?? 15_000;
      if (heartbeatMs < 100) throw new CfgError("bad_request", "heartbeat must be at least 100ms");
      const lastEventId = c.req.header("last-event-id");
      let after: number;
      if (lastEventId !== undefined && lastEventId !== "") {
        after = Number(lastEventId);
        if (!Number.isSafeInteger(after) || after < 0) {
          throw new CfgError(
            "bad_request",
            `Last-Event-ID must be a revision number, not ${JSON.stringify(lastEventId)}`,
          );
        }
      } else {
        const from = intQuery(c, "fromRevision", { min: 1 });
        const current = watch.projectRevision(project);
        if (current === null) throw new CfgError("not_found", `project ${project} does not exist`);
        after = from === undefined ? current : from - 1;
      }
      const authorization = requestHeader(c, "authorization");
      setHeader(c, "X-Accel-Buffering", "no");
      return eventStream(c, async (stream) => {
        const { signal } = stream;
        await stream.write("retry: 1000\n\n");
        // Where this stream starts: the revision after which events follow.
        await stream.write(sseMessage("start", JSON.stringify({ project, revision: after }), String(after)));
        const waiter = watch.follow(project);
        try {
          // The credential is checked when the stream wakes (a change, a heartbeat), not again
          // while it catches up on the revisions of that change.
          let woke = true;
          while (!signal.aborted) {
            if (woke && stillAllowed && !(await stillAllowed(authorization, project))) return;
            const { events, next, reset } = watch.eventsAfter(project, after, { prefix, values });
            for (const event of events) await stream.write(serialized(event));
            if (reset) {
              await stream.write(sseMessage("reset", JSON.stringify(reset)));
              return;
            }
            woke = next === after;
            after = next;
            if (!woke) continue; // maybe more: read again before waiting
            const changed = await waiter.wait(heartbeatMs, signal);
            if (!changed && !signal.aborted) await stream.write(`: heartbeat ${after}\n\n`);
          }
        } finally {
          waiter.close();
        }
      });
    });
}
