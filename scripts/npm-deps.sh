#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than
# package-lock.json; used by `npm start` and `npm test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'npm-deps: %s\n' "$*" >&2; }
die() { printf 'npm-deps: error: %s\n' "$*" >&2; exit 1; }

# npm writes node_modules/.package-lock.json on every install; an older one
# means package-lock.json changed since.
if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
  say "node_modules up to date"
  exit 0
fi

say "running npm ci"
ci_log=$(mktemp)
trap 'rm -f "$ci_log"' EXIT
if npm ci --no-audit --no-fund --loglevel=error 2>"$ci_log" >&2; then
  :
elif grep -q 'EUSAGE' "$ci_log"; then
  # Seen here: the registry mirror lacks other platforms' optional binaries
  # (e.g. @rollup/rollup-android-*, @bufbuild/buf-darwin-*) of the newest
  # versions, so npm install leaves them out of package-lock.json and npm ci
  # then rejects that lock as out of sync. npm install accepts the same lock
  # and installs the same versions.
  say "npm ci rejected package-lock.json (see comment in this script); running npm install"
  lock_before=$(sha256sum package-lock.json)
  npm install --no-audit --no-fund --loglevel=error >&2
  if [ "$(sha256sum package-lock.json)" != "$lock_before" ]; then
    if [ -n "${CI:-}" ]; then die "npm install changed package-lock.json: commit an updated lock"; fi
    say "warning: npm install changed package-lock.json"
  fi
else
  cat "$ci_log" >&2
  die "npm ci failed"
fi
# npm writes the lock and this file within milliseconds; make the order certain.
touch node_modules/.package-lock.json
