#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than
# package-lock.json; used by scripts/node.sh (start, cli, bench) and `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'npm-deps: %s\n' "$*" >&2; }
die() { printf 'npm-deps: error: %s\n' "$*" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on every install; an older one
# means package-lock.json changed since.
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  exit 0  # up to date: say nothing, so `npm run cli` prints only its answer
fi

say "running npm ci"
# npm ci installs exactly the committed lock and fails when package.json and
# package-lock.json disagree: an out-of-date lock stops the run here, loudly.
# (test/contract/lockfile.test.ts says so too, before a commit does.)
npm ci --no-audit --no-fund --loglevel=error >&2 || die "npm ci failed: if it says the lock is out of sync, run npm install and commit package-lock.json"
# npm writes the lock and this file within milliseconds; make the order certain.
touch node_modules/.package-lock.json
