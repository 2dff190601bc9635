#!/usr/bin/env bash
# Load test of `embeddings serve` on loopback only, bounded in count and time: wrk (Debian package) against
# POST /v1/embeddings (1 and 32 short texts) and GET /api/similar at 1, 8 and 64 connections, then 2x and 8x
# overload of a server limited to 4 requests at once + 4 waiting (429s expected, no 5xx, memory bounded).
# Store: the daily-papers dumps ingested into out/bench-server/store with the model (made once per model: the
# marker out/bench-server/store.done holds the fingerprint it was made with, and another model remakes it).
# Model: $BENCH_MODEL (a model folder) or the default model; the server is started with it as --model.
# Writes bench/results/server.md (the table) and bench/results/server.txt (wrk's RESULT lines); prints both.
# Usage: [BENCH_MODEL=DIR] bench/server/run.sh [SECONDS_PER_RUN (default 10)]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
command -v wrk >/dev/null || { echo "bench/server/run.sh: wrk is missing (apt-get install wrk)" >&2; exit 1; }
scripts/setup.sh >/dev/null
dotnet build src/Embeddings.Cli -c Release -nologo -v quiet >/dev/null
cli=(dotnet src/Embeddings.Cli/bin/Release/net10.0/embeddings.dll)
work=out/bench-server
store=$work/store
mkdir -p "$work" bench/results
model_json=$("${cli[@]}" model info --json ${BENCH_MODEL:+--model "$BENCH_MODEL"})
model_dir=$(sed -n 's/.*"directory":"\([^"]*\)".*/\1/p' <<<"$model_json")
fingerprint=$(sed -n 's/.*"fingerprint":"\([^"]*\)".*/\1/p' <<<"$model_json" | head -1)
model_name=$(sed -n 's/^{"name":"\([^"]*\)".*/\1/p' <<<"$model_json")
[ -n "$model_dir" ] && [ -n "$fingerprint" ] || { echo "bench/server/run.sh: no model folder ($model_json)" >&2; exit 1; }
if [ "$(cat "$work/store.done" 2>/dev/null)" != "$fingerprint" ]; then
  rm -rf "$store" "$work/store.done"
  "${cli[@]}" ingest --store "$store" --model "$model_dir" ../shared/corpus/daily-papers/*.txt --quiet
  "${cli[@]}" index build --store "$store" --quiet
  echo "$fingerprint" >"$work/store.done"
fi

# Short texts (titles-sized), cycled; the 32-text body holds all of them.
texts=("sparse attention for long documents" "quantization of large language model weights" "graph neural networks for molecules"
  "diffusion models for image generation" "retrieval augmented generation" "reinforcement learning from human feedback"
  "speech recognition with transformers" "federated learning under privacy constraints" "protein structure prediction"
  "neural radiance fields for novel view synthesis" "instruction tuning of language models" "contrastive learning of visual features"
  "mixture of experts routing" "tabular data pretraining" "code generation benchmarks" "knowledge distillation for small models"
  "low rank adaptation of transformers" "chain of thought prompting" "vision language models" "time series forecasting"
  "adversarial robustness of classifiers" "efficient inference on mobile devices" "symbolic regression with transformers"
  "data selection for pretraining" "hallucination in language models" "multilingual machine translation"
  "optimal transport for domain adaptation" "video understanding with transformers" "text to speech synthesis"
  "offline reinforcement learning" "neural architecture search" "memory efficient training")
one=$work/one.jsonl; many=$work/many.jsonl
: >"$one"
for t in "${texts[@]}"; do printf '{"input": "%s", "model": "default"}\n' "$t" >>"$one"; done
printf '{"input": [' >"$many"
for i in "${!texts[@]}"; do [ "$i" -gt 0 ] && printf ', ' >>"$many"; printf '"%s"' "${texts[$i]}" >>"$many"; done
printf '], "model": "default"}\n' >>"$many"
similar=""
for t in "${texts[@]}"; do similar+="/api/similar?k=10&text=${t// /+}|"; done

port=$((20000 + RANDOM % 20000))
base=http://127.0.0.1:$port
server=""
stop_server() { if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; server=""; fi; }
trap stop_server EXIT
start_server() {
  "${cli[@]}" serve --store "$store" --model "$model_dir" --urls "$base" "$@" >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do
    curl -fsS "$base/health" >/dev/null 2>&1 && return 0
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.5
  done
  echo "bench/server/run.sh: the server did not answer /health" >&2; exit 1
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$server/status"; }

raw=bench/results/server.txt
: >"$raw"
rows=()
# run NAME METHOD PATHS BODIES CONNECTIONS SECONDS: one wrk run; appends a table row.
run() {
  local name=$1 method=$2 paths=$3 bodies=$4 c=$5 s=$6 t load line
  t=$(( c < 2 ? c : 2 ))
  load=$(cut -d' ' -f1 /proc/loadavg)
  line=$(BENCH_METHOD=$method BENCH_PATHS=$paths BENCH_BODIES=$bodies \
    wrk -t"$t" -c"$c" -d"${s}s" --timeout 10s -s bench/server/stats.lua "$base/" | grep '^RESULT' || true)
  local load_after; load_after=$(cut -d' ' -f1 /proc/loadavg)
  echo "$name c=$c load=$load-$load_after rss_kib=$(rss_kib) $line" | tee -a "$raw"
  get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
  local ok busy e5
  ok=$(get status_200); busy=$(get status_429)
  e5=$( (grep -o 'status_5[0-9][0-9]=[0-9]*' <<<"$line" || true) | awk -F= '{n += $2} END {print n + 0}')
  rows+=("| $name | $c | ${ok:-0} | $(get rps) | $(get p50_ms) | $(get p99_ms) | ${busy:-0} | $e5 | $(get socket_errors) | $(( $(rss_kib) / 1024 )) | $load → $load_after |")
}

# 1. Throughput and latency, every request answered: limits above the connection counts.
uptime_before=$(uptime)
echo "uptime before: $uptime_before" | tee -a "$raw"
start_server --max-concurrent-requests 64 --max-queued-requests 64
for ep in one many similar; do # warm-up, not recorded: JIT, pools, first batches
  case $ep in one) run warmup POST /v1/embeddings "$one" 8 3 ;; many) run warmup POST /v1/embeddings "$many" 8 3 ;; similar) run warmup GET "$similar" "" 8 3 ;; esac
done
rows=()
for c in 1 8 64; do run "POST /v1/embeddings, 1 text" POST /v1/embeddings "$one" "$c" "$seconds"; done
for c in 1 8 64; do run "POST /v1/embeddings, 32 texts" POST /v1/embeddings "$many" "$c" "$seconds"; done
for c in 1 8 64; do run "GET /api/similar (hybrid, k=10)" GET "$similar" "" "$c" "$seconds"; done
normal=("${rows[@]}")
stop_server

# 2. Overload: a server that answers 4 at once and queues 4 (capacity 8), driven by 16 (2x) and 64 (8x) connections.
start_server --max-concurrent-requests 4 --max-queued-requests 4
run warmup POST /v1/embeddings "$one" 8 3
rows=()
rss_before=$(rss_kib)
run "overload 2x: POST /v1/embeddings, 1 text" POST /v1/embeddings "$one" 16 "$seconds"
run "overload 8x: POST /v1/embeddings, 1 text" POST /v1/embeddings "$one" 64 "$seconds"
run "overload 8x: POST /v1/embeddings, 32 texts" POST /v1/embeddings "$many" 64 "$seconds"
overload=("${rows[@]}")
peak=$(( $(hwm_kib) / 1024 ))
stop_server

{
  echo "# embeddings serve under wrk ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, model $model_name ($fingerprint))"
  echo
  echo "Command: \`bench/server/run.sh $seconds\` ($seconds s per run, wrk -t2 (-t1 at 1 connection) --timeout 10s, loopback)."
  echo "Store: $(ls ../shared/corpus/daily-papers/*.txt | wc -l) daily-papers dumps ingested with that model. Load: 1-minute load average before → after each run; \`uptime\` before the first run: $uptime_before; after the last: $(uptime)."
  echo
  echo "| endpoint | connections | 200s | requests/s | p50 ms | p99 ms | 429s | 5xx | socket errors | server RSS MiB | load |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${normal[@]}"
  echo
  echo "Overload (\`--max-concurrent-requests 4 --max-queued-requests 4\`; RSS before: $(( rss_before / 1024 )) MiB, peak (VmHWM) over the whole overload server's life: $peak MiB):"
  echo
  echo "| endpoint | connections | 200s | requests/s | p50 ms | p99 ms | 429s | 5xx | socket errors | server RSS MiB | load |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${overload[@]}"
} >bench/results/server.md
cat bench/results/server.md
