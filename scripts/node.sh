#!/usr/bin/env bash
# Runs `node <args>` on Node.js 24 (scripts/runtime.sh), installing the npm
# packages first when they are missing or older than the lock. `npm start`,
# `npm run cli` and `npm run bench` go through here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/npm-deps.sh
. scripts/runtime.sh
exec node "$@"
