#!/usr/bin/env bash
# A 3-node cfguardian cluster on this machine, in one command (from the repository root):
#   bash examples/cluster/start.sh
# Nodes n1..n3 listen on 127.0.0.1:7071-7073 (BASE_PORT=7070 moves them), data in
# .cfgd-cluster/<node>. The cluster secret is made on first start and kept in .cfgd-cluster/secret.
# Ctrl-C stops every node (SIGTERM: a leader hands over before it exits).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
base="${BASE_PORT:-7070}"
dir="$root/.cfgd-cluster"
mkdir -p "$dir"
if [ ! -s "$dir/secret" ]; then
  node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))' >"$dir/secret"
  chmod 600 "$dir/secret"
fi
if [ ! -f packages/daemon/dist/main.js ]; then
  . scripts/ensure-pnpm.sh
  pnpm install --reporter=silent && pnpm run build --output-logs=errors-only >/dev/null
fi
peers="n1=http://127.0.0.1:$((base + 1)),n2=http://127.0.0.1:$((base + 2)),n3=http://127.0.0.1:$((base + 3))"
pids=()
for i in 1 2 3; do
  CFGD_CLUSTER_SECRET="$(cat "$dir/secret")" node packages/daemon/bin/cfgd.js \
    --node-id "n$i" --listen "127.0.0.1:$((base + i))" --peers "$peers" --data-dir "$dir/n$i" \
    >>"$dir/n$i.log" 2>&1 &
  pids+=($!)
done
trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; echo; echo "cluster stopped."' INT TERM
for i in 1 2 3; do
  for _ in $(seq 1 100); do
    node -e "fetch('http://127.0.0.1:$((base + i))/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" && break
    sleep 0.2
  done
done
cat <<MSG
3-node cluster up: $peers (logs in $dir/n*.log)
  export CFG_SERVER=http://127.0.0.1:$((base + 1)) CFG_TOKEN=\$(cat $dir/n1/admin-token)
  pnpm exec cfg project create shop-prod
  curl -s -H "authorization: Bearer \$CFG_TOKEN" \$CFG_SERVER/v1/cluster
Any node takes any request; writes go to the leader. Press Ctrl-C to stop.
MSG
wait
