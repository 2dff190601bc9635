#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: fetches the ONNX Runtime native library and the
# default model first (once; later runs reuse them), then builds and tests. Extra arguments go to
# `dotnet test` (for example --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-postgres.sh # PostgreSQL 15 + pgvector for the PostgreSQL tests (skipped, saying why, where it cannot install)
results="$(pwd)/artifacts/test-results"
rm -rf "$results"
status=0
dotnet test Embeddings.sln -c Release --logger "console;verbosity=minimal" \
  --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" || status=$?
# One plain closing line that any CI reader understands: "N passed, N failed, N skipped".
python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
p = f = s = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    c = ET.parse(path).getroot().find(".//{*}Counters")
    if c is not None:
        p += int(c.get("passed", 0)); f += int(c.get("failed", 0)); s += int(c.get("notExecuted", 0))
print(f"tests: {p} passed, {f} failed, {s} skipped")
PY
exit $status
