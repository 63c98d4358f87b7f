#!/usr/bin/env bash
# The main job, on a machine with only Node.js and git: install, build, start a local 3-node cfgd
# cluster on embedded storage, and push the example repository's two targets to it.
#   bash scripts/quickstart.sh            keep the cluster in the foreground until Ctrl-C
#   bash scripts/quickstart.sh --detach   leave it running in the background
#                                         (stop: kill $(cat .cfgd/n1.pid .cfgd/n2.pid .cfgd/n3.pid))
# Environment: CFGD_LISTEN (n1's address, default 127.0.0.1:7070; n2 and n3 take the next two
# ports), CFGD_DATA_DIR (default ./.cfgd: a directory per node, the cluster secret, logs, pids).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
detach=false
[ "${1:-}" = "--detach" ] && detach=true
[ "${CI:-}" = "true" ] && detach=true

. scripts/ensure-pnpm.sh
echo "==> Installing dependencies (the first run builds better-sqlite3, about 2 minutes)"
pnpm install --reporter=silent
echo "==> Building"
pnpm run build --output-logs=errors-only >/dev/null

listen="${CFGD_LISTEN:-127.0.0.1:7070}"
host="${listen%:*}"
base="${listen##*:}"
data_dir="${CFGD_DATA_DIR:-$root/.cfgd}"
server="http://$listen"
mkdir -p "$data_dir"
chmod 700 "$data_dir"
ids=(n1 n2 n3)
url_of() { echo "http://$host:$((base + $1))"; }
peers="n1=$(url_of 0),n2=$(url_of 1),n3=$(url_of 2)"
# The cluster secret, made on the first start: every member derives the same admin token from it.
if [ ! -s "$data_dir/secret" ]; then
  node -e 'process.stdout.write(require("node:crypto").randomBytes(24).toString("base64url"))' >"$data_dir/secret"
  chmod 600 "$data_dir/secret"
fi

up() { node -e "fetch('$1').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }
running() { [ -f "$data_dir/$1.pid" ] && kill -0 "$(cat "$data_dir/$1.pid")" 2>/dev/null; }
started=()
for i in 0 1 2; do
  id="${ids[$i]}"
  url="$(url_of "$i")"
  if running "$id"; then
    echo "==> $id already runs at $url (pid $(cat "$data_dir/$id.pid"))"
    continue
  fi
  if up "$url/healthz"; then
    echo "error: something else already listens on ${url#http://}; stop it or set CFGD_LISTEN=127.0.0.1:<free port> (the nodes take it and the next two ports)" >&2
    exit 1
  fi
  echo "==> Starting cfgd $id on $url with data in $data_dir/$id (log: $data_dir/$id.log)"
  CFGD_CLUSTER_SECRET="$(cat "$data_dir/secret")" node packages/daemon/bin/cfgd.js \
    --node-id "$id" --listen "${url#http://}" --peers "$peers" --data-dir "$data_dir/$id" \
    >>"$data_dir/$id.log" 2>&1 &
  echo $! >"$data_dir/$id.pid"
  started+=("$id")
done
for i in 0 1 2; do
  id="${ids[$i]}"
  for _ in $(seq 1 150); do
    if up "$(url_of "$i")/readyz"; then break; fi
    if ! running "$id"; then
      echo "error: cfgd $id exited; its log:" >&2
      tail -20 "$data_dir/$id.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done
# The admin token where a single node keeps it, so that one path works for both.
ln -sf n1/admin-token "$data_dir/admin-token"
echo "==> 3-node cluster up: $peers"

export CFG_SERVER="$server"
CFG_TOKEN="$(cat "$data_dir/admin-token")"
export CFG_TOKEN
cfg() { node "$root/packages/cli/bin/cfg.js" "$@"; }

cd examples/config-repo
for project in shop-staging shop-prod; do
  cfg project list --output json | grep -q "\"name\": \"$project\"" || cfg project create "$project"
done
echo "==> cfg validate"
cfg validate
dirty=()
if [ -n "$(git status --porcelain -- . 2>/dev/null || true)" ]; then dirty=(--allow-dirty); fi
for target in staging prod; do
  echo "==> cfg push --target $target --yes"
  cfg push --target "$target" --yes "${dirty[@]}"
done
echo "==> cfg history --target prod"
cfg history --target prod
echo "==> cfg diff --target prod"
cfg diff --target prod

cat <<MSG

A 3-node cfgd cluster is running ($peers); any node takes any request. Try, from
examples/config-repo:
  export CFG_SERVER=$server CFG_TOKEN=\$(cat $data_dir/admin-token)
  pnpm exec cfg cluster members
  pnpm exec cfg status --target prod
  pnpm exec cfg get services/api --target prod
  pnpm exec cfg rollback --target prod --dry-run
MSG

if [ "$detach" = true ]; then
  if [ "${#started[@]}" -gt 0 ]; then
    echo "The nodes keep running in the background; stop them with: kill \$(cat $data_dir/n1.pid $data_dir/n2.pid $data_dir/n3.pid)"
  fi
  exit 0
fi
if [ "${#started[@]}" -gt 0 ]; then
  pids=()
  for id in "${started[@]}"; do pids+=("$(cat "$data_dir/$id.pid")"); done
  # SIGTERM: a leader hands leadership over before it exits.
  trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; for id in "${started[@]}"; do rm -f "$data_dir/$id.pid"; done; echo; echo "cluster stopped."' INT TERM
  echo "Press Ctrl-C to stop the cluster."
  wait "${pids[@]}" || true
fi
