#!/usr/bin/env bash
# Installs everything and runs every test: lint, build (strict typecheck), then one vitest run over
# all packages. Ends with one plain line "N passed, N failed" taken from vitest's JSON report.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-pnpm.sh

# The PostgreSQL adapter's tests use the real server on this machine.
if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi

if [ "${CI:-}" = "true" ]; then
  pnpm install --frozen-lockfile
else
  pnpm install
fi
pnpm exec biome check .
pnpm run build

mkdir -p .ci/out
status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile=.ci/out/vitest.json || status=$?
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0;
  try {
    const r = JSON.parse(fs.readFileSync(".ci/out/vitest.json", "utf8"));
    passed = r.numPassedTests; failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
    if (r.numTotalTests === 0) failed += 1;
  } catch { failed = 1; }
  console.log(`${passed} passed, ${failed} failed`);
'
exit "$status"
