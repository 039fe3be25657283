#!/usr/bin/env bash
# `npm test`: install/build what the tests need (fast when already done), then
# run vitest with any extra arguments, e.g. `npm test -- test/setup`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/test-deps.sh
exec npx vitest run "$@"
