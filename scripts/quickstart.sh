#!/usr/bin/env bash
# The main job, on a machine with only Node.js and git: install, build, start one cfgd node on
# embedded storage, and push the example repository's two targets to it.
#   bash scripts/quickstart.sh            keep cfgd in the foreground until Ctrl-C
#   bash scripts/quickstart.sh --detach   leave cfgd running in the background (stop: kill $(cat .cfgd/cfgd.pid))
# Environment: CFGD_LISTEN (default 127.0.0.1:7070), CFGD_DATA_DIR (default ./.cfgd).
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
data_dir="${CFGD_DATA_DIR:-$root/.cfgd}"
server="http://$listen"
mkdir -p "$data_dir"

up() { node -e "fetch('$server/$1').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }
if up healthz; then
  if [ -f "$data_dir/cfgd.pid" ] && kill -0 "$(cat "$data_dir/cfgd.pid")" 2>/dev/null; then
    echo "==> cfgd already runs at $server (pid $(cat "$data_dir/cfgd.pid"))"
    started=false
  else
    echo "error: something else already listens on $listen; stop it or set CFGD_LISTEN=127.0.0.1:<free port>" >&2
    exit 1
  fi
else
  echo "==> Starting cfgd on $server with data in $data_dir (log: $data_dir/cfgd.log)"
  node packages/daemon/bin/cfgd.js --listen "$listen" --data-dir "$data_dir" >>"$data_dir/cfgd.log" 2>&1 &
  echo $! >"$data_dir/cfgd.pid"
  started=true
  for _ in $(seq 1 100); do
    if up readyz; then break; fi
    if ! kill -0 "$(cat "$data_dir/cfgd.pid")" 2>/dev/null; then
      echo "error: cfgd exited; its log:" >&2
      tail -20 "$data_dir/cfgd.log" >&2
      exit 1
    fi
    sleep 0.2
  done
fi

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

cfgd is running at $server. Try, from examples/config-repo:
  export CFG_SERVER=$server CFG_TOKEN=\$(cat $data_dir/admin-token)
  pnpm exec cfg diff --target staging
  pnpm exec cfg get services/api --target prod
  pnpm exec cfg rollback --target prod --dry-run
MSG

if [ "$detach" = true ]; then
  [ "$started" = true ] && echo "cfgd keeps running in the background (pid $(cat "$data_dir/cfgd.pid")); stop it with: kill \$(cat $data_dir/cfgd.pid)"
  exit 0
fi
if [ "$started" = true ]; then
  pid="$(cat "$data_dir/cfgd.pid")"
  trap 'kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$data_dir/cfgd.pid"; echo; echo "cfgd stopped."' INT TERM
  echo "Press Ctrl-C to stop cfgd."
  wait "$pid" || true
fi
