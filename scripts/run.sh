#!/usr/bin/env bash
# The main job end to end on a fresh machine: set-up (native runtime, default model), then the daily-papers
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

echo "== papers similar to the first paper of the first dump"
first_id=$($emb export --store out/store --format jsonl -o out/papers.jsonl >/dev/null && head -1 out/papers.jsonl | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
$emb similar --store out/store --id "$first_id" -k 5

echo "== topics and digest"
$emb topics --store out/store
$emb digest --store out/store --format html -o out/digest.html
$emb digest --store out/store --format md -o out/digest.md
echo "digest written to out/digest.html and out/digest.md"
