#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs the models first (scripts/setup.sh, once; later runs
# reuse them; ONNX Runtime comes with the NuGet restore of the build), then builds and tests. Extra arguments go to
# `dotnet test` (for example --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-postgres.sh # PostgreSQL 15 + pgvector for the PostgreSQL tests (skipped, saying why, where it cannot install)
scripts/setup-chromium.sh # headless Chromium for the web page's browser test (skipped, saying why, where it cannot install)
results="$(pwd)/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test Embeddings.sln -c Release --logger "console;verbosity=minimal" \
  --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || status=$?
# One plain closing line that any CI reader understands: "N passed, N failed, N skipped", from the <Counters>
# element of each trx file (grep and awk: no Python on this path).
find "$results" -name '*.trx' -exec grep -ho '<Counters [^>]*>' {} + 2>/dev/null | awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); gsub(/[^0-9]/, "", kv[2]); n[kv[1]] += kv[2] } }
  END { printf "tests: %d passed, %d failed, %d skipped\n", n["passed"], n["failed"], n["notExecuted"] }' || true
exit $status
