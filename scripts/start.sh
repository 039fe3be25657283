#!/usr/bin/env bash
# Runs the service with embedded defaults (no database needed), installing
# the npm packages first when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/npm-deps.sh
exec node --import tsx src/main.ts "$@"
