#!/usr/bin/env bash
# Runs notebooks/similar-papers.ipynb headless against the engine built from this checkout and checks its outputs:
# the .NET Interactive kernel comes from NuGet (the local tool pinned in .config/dotnet-tools.json), the runner is
# Debian's jupyter-nbconvert (installed with apt when missing; no pip). The executed notebook is written to
# artifacts/notebook/. Exit 0 only when every code cell ran without an error and the checks cell passed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v jupyter-nbconvert >/dev/null || ! command -v jq >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jupyter-nbconvert python3-ipykernel jq >/dev/null
fi
dotnet tool restore >/dev/null
dotnet build src/Embeddings.Cli -c Release -nologo -v quiet
out="$(pwd)/artifacts/notebook"
mkdir -p "$out"
# The kernel spec goes to a private folder, so nothing outside the checkout changes.
export JUPYTER_PATH="$out/jupyter"
mkdir -p "$JUPYTER_PATH/kernels"
dotnet dotnet-interactive jupyter install --path "$JUPYTER_PATH/kernels" >/dev/null
export PYDEVD_DISABLE_FILE_VALIDATION=1
jupyter-nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=.net-csharp \
  --ExecutePreprocessor.timeout=600 --output-dir "$out" notebooks/similar-papers.ipynb
executed="$out/similar-papers.ipynb"
# Every code cell has run and none reported an error; the last one says the checks passed.
jq -e '[.cells[] | select(.cell_type == "code")] | all(.execution_count != null)' "$executed" >/dev/null \
  || { echo "notebook: a code cell did not run" >&2; exit 1; }
if jq -e '[.cells[].outputs[]? | select(.output_type == "error")] | length > 0' "$executed" >/dev/null; then
  jq -r '.cells[].outputs[]? | select(.output_type == "error") | "\(.ename): \(.evalue)"' "$executed" >&2
  exit 1
fi
jq -e '[.cells[-1].outputs[]? | (.data["text/plain"] // .data["text/html"] // .text // "") | tostring] | any(contains("notebook checks passed"))' "$executed" >/dev/null \
  || { echo "notebook: the checks cell did not report success" >&2; jq '.cells[-1].outputs' "$executed" >&2; exit 1; }
echo "notebook: every cell ran and its checks passed ($executed)"
