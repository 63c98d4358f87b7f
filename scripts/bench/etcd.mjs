// A 3-member etcd cluster on loopback (fsync on: etcd's default), for `--vs-etcd` comparisons,
// driven through its HTTP/JSON gateway (/v3/kv/put, /v3/kv/range) like cfgd is driven over HTTP.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, startWithRetries, waitFor } from "./lib.mjs";

export function etcdBinary() {
  const found = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.split("\n")[0] : null;
}

const b64 = (text) => Buffer.from(text).toString("base64");

/**
 * Start a `size`-member etcd cluster and wait until every member answers and one leads (with new
 * ports if a member could not bind its own). Call stop() at the end.
 */
export async function startEtcd(size = 3) {
  const names = Array.from({ length: size }, (_, i) => `e${i + 1}`);
  const { value, ...started } = await startWithRetries("etcd", async () => {
    const work = mkdtempSync(join(tmpdir(), "cfg-bench-etcd-"));
    const ports = await freePorts(2 * size);
    const client = ports.slice(0, size);
    const peer = ports.slice(size);
    const initial = names.map((name, i) => `${name}=http://127.0.0.1:${peer[i]}`).join(",");
    const children = names.map((name, i) =>
      spawn(
        "etcd",
        [
          ...["--name", name, "--data-dir", join(work, name)],
          ...["--listen-client-urls", `http://127.0.0.1:${client[i]}`],
          ...["--advertise-client-urls", `http://127.0.0.1:${client[i]}`],
          ...["--listen-peer-urls", `http://127.0.0.1:${peer[i]}`],
          ...["--initial-advertise-peer-urls", `http://127.0.0.1:${peer[i]}`],
          ...["--initial-cluster", initial, "--initial-cluster-state", "new"],
          ...["--initial-cluster-token", "bench", "--log-level", "error", "--logger", "zap"],
        ],
        { stdio: "ignore" },
      ),
    );
    const url = (i) => `http://127.0.0.1:${client[i]}`;
    const stop = async () => {
      for (const child of children) child.kill("SIGKILL");
      rmSync(work, { recursive: true, force: true });
    };
    const ready = () =>
      waitFor("every etcd member and a leader", async () => {
        const statuses = await Promise.all(
          names.map(async (_, i) =>
            (await fetch(`${url(i)}/v3/maintenance/status`, { method: "POST", body: "{}" })).json(),
          ),
        );
        const leader = statuses.findIndex((s) => s.leader && s.leader === s.header?.member_id);
        return leader >= 0 && statuses.every((s) => s.leader === statuses[leader].leader)
          ? leader
          : undefined;
      });
    return { children, stop, ready, url };
  });
  const leader = value;
  return { ...started, leader, follower: (leader + 1) % size };
}

/** The same workloads as cfgd's, in etcd's API: keys k0..k999, values of ~256 bytes. */
export const etcdRequests = {
  write: (value) => (n) => ({
    method: "POST",
    path: "/v3/kv/put",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: b64(`k${n % 1000}`), value: b64(value) }),
  }),
  read: (serializable) => (n) => ({
    method: "POST",
    path: "/v3/kv/range",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key: b64(`k${n % 1000}`), serializable }),
  }),
};

export async function createEtcdKeys(base, count, value) {
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, j) =>
        fetch(`${base}/v3/kv/put`, {
          method: "POST",
          body: JSON.stringify({ key: b64(`k${i + j}`), value: b64(value) }),
        }).then((r) => r.text()),
      ),
    );
  }
}
