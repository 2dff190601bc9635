#!/usr/bin/env bash
# The CUDA check, for a machine with an NVIDIA GPU, its driver, CUDA 13 and cuDNN 9: installs the GPU build of
# ONNX Runtime (scripts/setup.sh --cuda), then embeds 1,000 SciFact abstracts with the default model on CUDA and on
# the CPU and prints the largest |difference| (goal <= 1e-3), the smallest cosine (goal >= 0.9999) and texts/s of
# each; the figures also go to bench/results/gpu-check.json. Exit 0 when the goals are met, 1 when not or when CUDA
# cannot be used (the message names the missing libraries). Extra arguments go to the check (--limit N, --model DIR).
# On a machine without an NVIDIA GPU it says so first and stops (exit 1) before the 245 MB download: no figure is made.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! compgen -G '/dev/nvidia[0-9]*' >/dev/null && ! compgen -G '/proc/driver/nvidia/gpus/*' >/dev/null; then
  echo "gpu-check: no NVIDIA GPU on this machine (no /dev/nvidia0, no /proc/driver/nvidia/gpus/): nothing was measured." >&2
  echo "gpu-check: run it on a machine with an NVIDIA GPU, its driver, CUDA 13 and cuDNN 9." >&2
  exit 1
fi
scripts/setup.sh --cuda
dotnet build bench/Embeddings.Bench -c Release -nologo -v quiet >&2
exec dotnet bench/Embeddings.Bench/bin/Release/net10.0/Embeddings.Bench.dll gpu-check "$@"
