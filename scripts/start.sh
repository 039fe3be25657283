#!/usr/bin/env bash
# Runs the service with embedded defaults (no database needed), installing
# the Node dependencies first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
exec node --import tsx src/main.ts "$@"
