import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LinkProxy } from "./link-proxy.js";
import { CFGD_BIN, callApi, freePort } from "./processes.js";

export const SECRET = "e2e-cluster-secret-0123456789";

export interface Member {
  id: string;
  url: string;
  port: number;
  /** The member's files; its log (stderr, JSON lines) is `${dataDir}.log`. */
  dataDir: string;
  child?: ChildProcess;
}

/** Where a member's stderr goes (see Member.dataDir). */
const logFile = (member: Member): string => `${member.dataDir}.log`;

/** The last lines of a member's log, for an error. */
function logTail(member: Member, lines = 15): string {
  try {
    return readFileSync(logFile(member), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/**
 * A cluster of real cfgd processes. Raft traffic from i to j goes through its own LinkProxy, so a
 * test can cut any direction of any link; clients talk to each node directly.
 */
export class TestCluster {
  readonly members: Member[] = [];
  readonly links = new Map<string, LinkProxy>();
  token = "";

  /** Extra cfgd flags for every member (for example a small --snapshot-count). */
  args: string[] = [];

  /** Extra environment for every member. */
  env: NodeJS.ProcessEnv = {};

  static async create(
    ids: string[],
    options: {
      args?: string[];
      env?: NodeJS.ProcessEnv;
      /** Runs on each member's (empty) data directory before it first starts, e.g. a restore. */
      prepare?: (member: Member) => Promise<void>;
      /** Called with the cluster as soon as its members are known (before prepare and start). */
      onCreated?: (cluster: TestCluster) => void;
    } = {},
  ): Promise<TestCluster> {
    const cluster = new TestCluster();
    cluster.args = options.args ?? [];
    cluster.env = options.env ?? {};
    for (const id of ids) await cluster.addMember(id);
    options.onCreated?.(cluster);
    try {
      for (const m of cluster.members) await options.prepare?.(m);
      for (const m of cluster.members) cluster.start(m);
      for (const m of cluster.members)
        await cluster.until(`${m.id} ready`, async () =>
          (await fetch(`${m.url}/readyz`)).ok ? true : undefined,
        );
    } catch (error) {
      // The test never gets the cluster to close: its members are killed here, and what they
      // logged goes with the error (a cluster that elects no leader at start is seen only in CI).
      await cluster.close();
      const logs = cluster.members.map((m) => `--- ${m.id} (${m.url})\n${logTail(m)}`).join("\n");
      throw new Error(`${(error as Error).message}\n${logs}`);
    }
    cluster.token = readFileSync(join(cluster.members[0]!.dataDir, "admin-token"), "utf8").trim();
    return cluster;
  }

  /**
   * A new member's ports, data directory and links to and from every other member; not started
   * (a member added after the cluster was founded starts with `join`).
   */
  async addMember(id: string): Promise<Member> {
    const port = await freePort();
    const member: Member = {
      id,
      port,
      url: `http://127.0.0.1:${port}`,
      dataDir: mkdtempSync(join(tmpdir(), `cfgd-${id}-`)),
    };
    for (const other of this.members) {
      for (const [from, to] of [
        [member, other],
        [other, member],
      ] as const) {
        const proxy = new LinkProxy(to.port);
        await proxy.listen();
        this.links.set(`${from.id}>${to.id}`, proxy);
      }
    }
    this.members.push(member);
    return member;
  }

  member(id: string): Member {
    return this.members.find((m) => m.id === id)!;
  }

  /** The --peers a member sees: itself directly, everyone else through its outgoing links. */
  private peersOf(member: Member): string {
    return this.members
      .map((m) =>
        m === member
          ? `${m.id}=${m.url}`
          : `${m.id}=http://127.0.0.1:${this.links.get(`${member.id}>${m.id}`)!.port}`,
      )
      .join(",");
  }

  start(member: Member, options: { join?: boolean } = {}): void {
    const child = spawn(
      process.execPath,
      [
        CFGD_BIN,
        "--node-id",
        member.id,
        "--listen",
        `127.0.0.1:${member.port}`,
        "--peers",
        this.peersOf(member),
        "--data-dir",
        member.dataDir,
        ...(options.join ? ["--join"] : []),
        ...this.args,
      ],
      {
        stdio: ["ignore", "ignore", openSync(logFile(member), "a")],
        env: { ...process.env, ...this.env, CFGD_CLUSTER_SECRET: SECRET },
      },
    );
    member.child = child;
  }

  async kill9(member: Member): Promise<void> {
    const child = member.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await exited;
  }

  /** Cut every link between the two groups, both ways. */
  partition(a: Member[], b: Member[]): void {
    for (const x of a)
      for (const y of b) for (const key of [`${x.id}>${y.id}`, `${y.id}>${x.id}`]) this.links.get(key)?.cut();
  }

  heal(): void {
    for (const proxy of this.links.values()) proxy.heal();
  }

  call<T>(
    member: Member,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    return callApi<T>({ url: member.url, token: this.token }, method, path, body);
  }

  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined) return value;
      } catch {
        // not yet
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }

  /**
   * The leader of the newest term among `among`: a member that says it leads and that a majority
   * of them (itself included) name. The first member to say it leads is not enough: a deposed
   * leader says so until it hears of the new term, and a test that took another member for a
   * follower then saw it serve writes itself. A member that answers nothing or names no leader
   * yet does not hold it up.
   */
  async leader(among: Member[] = this.members): Promise<Member> {
    let seen = "";
    try {
      return await this.until("a leader", async () => {
        const views = await Promise.all(
          among.map((m) =>
            this.call<{ role?: string; leader?: string | null }>(m, "GET", "/v1/cluster").then(
              (r) => r.body,
              () => ({ role: "unreachable", leader: null }),
            ),
          ),
        );
        seen = among.map((m, i) => `${m.id}: ${views[i].role} of ${views[i].leader ?? "none"}`).join(", ");
        const leaders = among.filter((_, i) => views[i].role === "leader");
        return leaders.find((m) => views.filter((view) => view.leader === m.id).length > among.length / 2);
      });
    } catch (error) {
      throw new Error(`${(error as Error).message} (last seen: ${seen})`);
    }
  }

  async close(): Promise<void> {
    for (const m of this.members) await this.kill9(m);
    for (const proxy of this.links.values()) await proxy.close();
  }
}
