#!/usr/bin/env bash
# Add a fourth node to the cluster that examples/cluster/start.sh runs (from the repository root):
#   bash examples/cluster/add-node.sh [n4]
# It asks the cluster to add the node (cfg cluster add: a learner, made a voter once caught up),
# starts cfgd with --join on 127.0.0.1:BASE_PORT+4 (data in .cfgd-cluster/n4), and waits until it
# votes. Stop it with: kill $(cat .cfgd-cluster/n4.pid)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
base="${BASE_PORT:-7070}"
dir="$root/.cfgd-cluster"
id="${1:-n4}"
port=$((base + 4))
if [ ! -s "$dir/secret" ] || [ ! -s "$dir/n1/admin-token" ]; then
  echo "no cluster here: run bash examples/cluster/start.sh first" >&2
  exit 1
fi
peers="n1=http://127.0.0.1:$((base + 1)),n2=http://127.0.0.1:$((base + 2)),n3=http://127.0.0.1:$((base + 3))"
export CFG_SERVER="http://127.0.0.1:$((base + 1))" CFG_TOKEN="$(cat "$dir/n1/admin-token")"
node packages/cli/bin/cfg.js cluster add "$id" "http://127.0.0.1:$port"
CFGD_CLUSTER_SECRET="$(cat "$dir/secret")" nohup node packages/daemon/bin/cfgd.js \
  --node-id "$id" --join --listen "127.0.0.1:$port" --peers "$peers" --data-dir "$dir/$id" \
  >>"$dir/$id.log" 2>&1 &
echo $! >"$dir/$id.pid"
node packages/cli/bin/cfg.js cluster add "$id" "http://127.0.0.1:$port" --wait 60s
node packages/cli/bin/cfg.js cluster members
