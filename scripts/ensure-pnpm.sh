#!/usr/bin/env bash
# Makes `pnpm` available on a machine that has only Node.js and npm. Source it: `. scripts/ensure-pnpm.sh`.
if ! command -v pnpm >/dev/null 2>&1; then
  echo "pnpm not found; installing pnpm@10 with npm" >&2
  if ! npm install -g pnpm@10 >/dev/null 2>&1; then
    echo "npm could not install pnpm globally; trying corepack" >&2
    corepack enable pnpm >/dev/null 2>&1 || {
      echo "error: could not install pnpm (tried 'npm install -g pnpm@10' and 'corepack enable pnpm')" >&2
      exit 1
    }
  fi
fi
