import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import type { StatusReport } from "./collect.js";
import { StatusView } from "./view.js";

const member = (id: string, over: Partial<StatusReport["members"][number]> = {}) => ({
  id,
  url: `http://127.0.0.1:700${id.slice(1)}`,
  voter: true,
  role: "follower",
  term: 3,
  commitIndex: 42,
  appliedIndex: 42,
  lag: 0,
  lastContactMs: 120,
  health: "ok" as const,
  isLeader: false,
  ...over,
});

const report = (over: Partial<StatusReport> = {}): StatusReport => ({
  at: new Date("2026-11-24T10:00:00Z"),
  leader: "n1",
  term: 3,
  members: [member("n1", { role: "leader", isLeader: true, lastContactMs: 0 }), member("n2"), member("n3")],
  project: "shop-prod",
  pushes: [
    {
      revision: 7,
      kind: "push",
      createdAt: "2026-11-24T09:59:00.000Z",
      actor: "admin",
      message: "raise the pool size",
      git: { commit: "0123456789abcdef", branch: "main", author: "a", message: "m", dirty: false },
      rollbackTo: null,
      schemasChanged: false,
      changes: [{ op: "put", key: "db", version: 2 }],
    } as unknown as NonNullable<StatusReport["pushes"]>[number],
  ],
  problems: [],
  ...over,
});

const tick = () => new Promise((done) => setTimeout(done, 30));

describe("cfg status view (ink)", () => {
  it("shows one row per member with the leader marked, and the latest pushes", async () => {
    const view = render(<StatusView collect={async () => report()} intervalMs={60_000} />);
    await tick();
    const frame = view.lastFrame()!;
    expect(frame).toMatch(/leader n1 · term 3 · 3\/3 members answering/);
    expect(frame).toMatch(/ID\s+ADDRESS\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+CONTACT\s+HEALTH/);
    expect(frame).toMatch(/n1 \*\s+http:\/\/127\.0\.0\.1:7001\s+leader\s+3\s+42\s+42\s+0\s+0ms\s+ok/);
    expect(frame).toMatch(/n2\s+http:\/\/127\.0\.0\.1:7002\s+follower/);
    expect(frame).toMatch(/Latest pushes of shop-prod/);
    expect(frame).toMatch(/7\s+2026-11-24 09:59:00\s+admin\s+01234567\s+1\s+raise the pool size/);
    expect(frame).toMatch(/r refresh · q quit/);
    view.unmount();
  });

  it("shows a member that stops answering as down, and r refreshes at once", async () => {
    let calls = 0;
    const collect = async () => {
      calls++;
      return calls === 1
        ? report()
        : report({
            members: [
              member("n1", { role: "leader", isLeader: true }),
              member("n2"),
              member("n3", {
                role: null,
                term: null,
                commitIndex: null,
                appliedIndex: null,
                health: "down",
                lag: null,
                error: "connect ECONNREFUSED",
              }),
            ],
          });
    };
    const view = render(<StatusView collect={collect} intervalMs={60_000} />);
    await tick();
    expect(view.lastFrame()).toMatch(/3\/3 members answering/);
    view.stdin.write("r");
    await tick();
    expect(calls).toBe(2);
    expect(view.lastFrame()).toMatch(/2\/3 members answering/);
    expect(view.lastFrame()).toMatch(/n3\s+http:\/\/127\.0\.0\.1:7003\s+-\s+-\s+-\s+-\s+-\s+120ms\s+down/);
    view.unmount();
  });

  it("keeps running and says why when a refresh fails, then recovers", async () => {
    let calls = 0;
    const collect = async () => {
      calls++;
      if (calls === 2) throw new Error("every member refused the connection");
      return report({ leader: calls === 1 ? "n1" : null });
    };
    const view = render(<StatusView collect={collect} intervalMs={60_000} />);
    await tick();
    view.stdin.write("r");
    await tick();
    expect(view.lastFrame()).toMatch(/every member refused the connection/);
    expect(view.lastFrame()).toMatch(/leader n1/);
    view.stdin.write("r");
    await tick();
    expect(view.lastFrame()).toMatch(/NO LEADER/);
    expect(view.lastFrame()).not.toMatch(/refused/);
    view.unmount();
  });
});
