/**
 * Jepsen-style: concurrent clients do reads, writes and compare-and-sets through the HTTP API of a
 * 3-node cluster while a nemesis kills (SIGKILL), pauses (SIGSTOP) and partitions nodes; the
 * history must be linearizable. CFG_NEMESIS_SECONDS sets the length (default 20 s; a longer run:
 * `CFG_NEMESIS_SECONDS=300 pnpm exec vitest run packages/e2e/test/cluster-nemesis.test.ts`).
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { checkHistory } from "../../daemon/src/linearizability/checker.js";
import type { HistoryEntry } from "../../daemon/src/linearizability/history.js";
import { type Member, TestCluster } from "./helpers/cluster.js";

const SECONDS = Number(process.env.CFG_NEMESIS_SECONDS ?? 20);
const KEYS = ["x", "y"];
let cluster: TestCluster | undefined;
afterAll(async () => {
  for (const m of cluster?.members ?? []) m.child?.kill("SIGCONT");
  await cluster?.close();
});

/** Deterministic choices from a seed printed with the result, so a failure can be looked at again. */
function prng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("linearizability under a nemesis (real processes)", () => {
  it(
    `keeps a linearizable history for ${SECONDS} s of kills, pauses and partitions`,
    async () => {
      const seed = Number(process.env.CFG_NEMESIS_SEED ?? Date.now() % 100000);
      const random = prng(seed);
      // Frequent snapshots and a short log behind them: a node back from a kill or a partition
      // often catches up by snapshot, so snapshot install is under the checker too.
      cluster = await TestCluster.create(["n1", "n2", "n3"], {
        args: ["--snapshot-count", "200", "--snapshot-catchup-entries", "20"],
      });
      const c = cluster;
      const leader = await c.leader();
      expect((await c.call(leader, "POST", "/v1/projects", { name: "lin" })).status).toBe(201);
      const history: HistoryEntry[] = [];
      const started = performance.now();
      const deadline = Date.now() + SECONDS * 1000;
      let nextId = 0;
      const now = () => performance.now() - started;

      const request = async (
        member: Member,
        method: string,
        path: string,
        body?: unknown,
        headers: Record<string, string> = {},
      ) => {
        const response = await fetch(`${member.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${c.token}`, "content-type": "application/json", ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(6_000),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      };

      const client = async (name: string) => {
        const known = new Map<string, { value: string | null; version: number }>();
        while (Date.now() < deadline) {
          const member = c.members[Math.floor(random() * c.members.length)]!;
          const key = KEYS[Math.floor(random() * KEYS.length)]!;
          const roll = random();
          const id = nextId++;
          const entry: HistoryEntry = {
            id,
            client: name,
            op: { kind: "get", key },
            invoke: now(),
            complete: Number.POSITIVE_INFINITY,
          };
          try {
            if (roll < 0.45) {
              const answer = await request(
                member,
                "GET",
                `/v1/projects/lin/configs/${key}?consistency=linearizable`,
              );
              if (answer.status === 200 || answer.status === 404) {
                const value = answer.status === 200 ? (answer.body.value as string) : null;
                known.set(key, { value, version: answer.status === 200 ? answer.body.version : 0 });
                entry.result = value;
                entry.complete = now();
              }
            } else {
              const value = `${name}-${id}`;
              const last = roll < 0.75 ? known.get(key) : undefined;
              entry.op = last
                ? { kind: "cas", key, expected: last.value, value }
                : { kind: "put", key, value };
              // Every value is written once, so a version names exactly one value: If-Match on the
              // version read earlier is a compare-and-set on that value.
              const headers: Record<string, string> = last ? { "if-match": `"${last.version}"` } : {};
              const answer = await request(member, "PUT", `/v1/projects/lin/configs/${key}`, value, headers);
              if (answer.status === 200) {
                entry.result = true;
                entry.complete = now();
              } else if (answer.status === 412 && last) {
                entry.result = false;
                entry.complete = now();
              } else if (answer.status < 500 && answer.status !== 421) {
                throw new Error(`unexpected answer ${answer.status}: ${JSON.stringify(answer.body)}`);
              }
              // 5xx (no_quorum, unavailable) and 421: the outcome is unknown; the entry stays open.
            }
          } catch (error) {
            if ((error as Error).message.startsWith("unexpected answer")) throw error;
            // Timeouts and dropped connections: unknown outcome.
          }
          if (entry.op.kind !== "get" || entry.result !== undefined) history.push(entry);
        }
      };

      const nemesis = async () => {
        const log: string[] = [];
        while (Date.now() < deadline - 1500) {
          await sleep(800 + random() * 1200);
          const victim = c.members[Math.floor(random() * c.members.length)]!;
          const roll = random();
          if (roll < 0.33) {
            log.push(`kill ${victim.id}`);
            await c.kill9(victim);
            await sleep(500 + random() * 1000);
            c.start(victim);
          } else if (roll < 0.66) {
            log.push(`pause ${victim.id}`);
            victim.child?.kill("SIGSTOP");
            await sleep(500 + random() * 1500);
            victim.child?.kill("SIGCONT");
          } else {
            log.push(`partition ${victim.id}`);
            c.partition(
              [victim],
              c.members.filter((m) => m !== victim),
            );
            await sleep(500 + random() * 1500);
            c.heal();
          }
        }
        return log;
      };

      const [faults] = await Promise.all([nemesis(), ...["a", "b", "c", "d"].map((name) => client(name))]);
      const completed = history.filter((h) => h.complete !== Number.POSITIVE_INFINITY).length;
      const verdict = checkHistory(history);
      const installs = c.members
        .map((m) => readFileSync(`${m.dataDir}.log`, "utf8").split('"msg":"installed snapshot"').length - 1)
        .reduce((a, b) => a + b, 0);
      console.log(
        `nemesis seed ${seed}: ${history.length} operations (${completed} answered), faults: ${faults.join(", ")}; ` +
          `${installs} snapshot installs; ` +
          `${verdict.ok ? "linearizable" : "NOT linearizable"}${verdict.gaveUp ? " (checker gave up on a key)" : ""}`,
      );
      if (!verdict.ok) console.log(verdict.explanation);
      expect(verdict.ok).toBe(true);
      expect(completed).toBeGreaterThan(20);
    },
    (SECONDS + 90) * 1000,
  );
});
