// A 3-member etcd cluster on loopback (fsync on: etcd's default), for `--vs-etcd` comparisons,
// driven through its HTTP/JSON gateway (/v3/kv/put, /v3/kv/range) like cfgd is driven over HTTP.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./lib.mjs";

export function etcdBinary() {
  const found = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.split("\n")[0] : null;
}

const b64 = (text) => Buffer.from(text).toString("base64");

export async function startEtcd(size = 3) {
  const work = mkdtempSync(join(tmpdir(), "cfg-bench-etcd-"));
  const names = Array.from({ length: size }, (_, i) => `e${i + 1}`);
  const client = [];
  const peer = [];
  for (const _ of names) {
    client.push(await freePort());
    peer.push(await freePort());
  }
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
        ...[
          "--initial-cluster",
          initial,
          "--initial-cluster-state",
          "new",
          "--initial-cluster-token",
          "bench",
        ],
        ...["--log-level", "error", "--logger", "zap"],
      ],
      { stdio: "ignore" },
    ),
  );
  const url = (i) => `http://127.0.0.1:${client[i]}`;
  const stop = () => {
    for (const child of children) child.kill("SIGKILL");
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const status = async (i) =>
      (await fetch(`${url(i)}/v3/maintenance/status`, { method: "POST", body: "{}" })).json();
    const leader = await waitFor("an etcd leader", async () => {
      for (let i = 0; i < size; i++) {
        const s = await status(i);
        if (s.leader && s.leader === s.header.member_id) return i;
      }
      return undefined;
    });
    return { url, leader, follower: (leader + 1) % size, children, stop };
  } catch (error) {
    stop();
    throw error;
  }
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
