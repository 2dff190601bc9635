#!/usr/bin/env bash
# The main job end to end on a fresh machine: set-up (the default model; ONNX Runtime comes with the build), then the daily-papers
# dumps are ingested into a store (only new papers are embedded), indexed, searched and summarised in a digest.
# Usage: scripts/run.sh [DUMP_FILES...]   (default: ../shared/corpus/daily-papers/*.txt); output in out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
emb=scripts/embeddings
if [ $# -gt 0 ]; then dumps=("$@"); else dumps=(../shared/corpus/daily-papers/*.txt); fi
mkdir -p out

echo "== ingest ${#dumps[@]} dump(s) into out/store"
$emb ingest --store out/store "${dumps[@]}"

echo "== index"
$emb index build --store out/store

echo "== papers similar to an abstract from the first dump"
# The first dump's first abstract: the first paragraph (blocks are separated by blank lines) over 300 characters.
abstract=$(awk 'BEGIN { RS = "" } length($0) > 300 { print; exit }' "${dumps[0]}")
$emb similar --store out/store --text "$abstract" -k 5

echo "== topics and digest"
$emb topics --store out/store
$emb digest --store out/store --format html -o out/digest.html
$emb digest --store out/store --format md -o out/digest.md
echo "digest written to out/digest.html and out/digest.md"
