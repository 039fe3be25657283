#!/usr/bin/env bash
# `npm test`: install/build what the tests need (fast when already done), then
# run vitest with any extra arguments, e.g. `npm test -- test/setup`.
# Ends with a plain "N passed, N failed" line read from vitest's JSON report.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/test-deps.sh
. scripts/runtime.sh   # vitest, and every server it starts, on Node 24

report=.cache/vitest-report.json
mkdir -p .cache
rm -f "$report"
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
if [ -f "$report" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
    if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
  ' "$report" || status=1
fi
exit "$status"
