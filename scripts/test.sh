#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: fetches the ONNX Runtime native library and the
# default model first (once; later runs reuse them), then builds and tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet test Embeddings.sln -c Release --logger "console;verbosity=normal" --logger "trx;LogFileName=results.trx" "$@"
