#!/usr/bin/env bash
# One-time set-up shared by both README commands: native runtime and default model.
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup-native.sh scripts/setup-model.sh; do
  if [ -x "$step" ]; then "$step"; fi
done
