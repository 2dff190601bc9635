#!/usr/bin/env bash
# Obtains the ONNX Runtime 1.30.0 CPU library (libonnxruntime.so.1) into .native/onnxruntime-1.30.0/.
#
# Source: the npm package onnxruntime-node@1.30.0, fetched with `npm pack` (a plain download: its
# postinstall, which tries to fetch CUDA packages, is never run). Only the one library file is extracted
# from the tarball and its sha256 is checked. Runs once: does nothing when the checked file is there.
#
# To use another ONNX Runtime build (for example a CUDA build on a GPU machine), set
# EMBEDDINGS_ONNXRUNTIME=/path/to/libonnxruntime.so.1 and this script does nothing.
set -euo pipefail

ORT_VERSION=1.30.0
ORT_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
TARBALL_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
dest_dir="$repo_root/.native/onnxruntime-$ORT_VERSION"
dest="$dest_dir/libonnxruntime.so.1"

say() { echo "setup-native: $*" >&2; }

if [ -n "${EMBEDDINGS_ONNXRUNTIME:-}" ]; then
  if [ ! -f "$EMBEDDINGS_ONNXRUNTIME" ]; then
    say "EMBEDDINGS_ONNXRUNTIME is set to '$EMBEDDINGS_ONNXRUNTIME', which is not a file."
    say "Point it at a libonnxruntime.so.1 (ONNX Runtime 1.20 or newer), or unset it to download $ORT_VERSION."
    exit 1
  fi
  say "using EMBEDDINGS_ONNXRUNTIME=$EMBEDDINGS_ONNXRUNTIME (no download)."
  exit 0
fi

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

ensure_symlink() {
  # Some loaders (DllImport("onnxruntime"), other tools) look for the unversioned name.
  ln -sfn libonnxruntime.so.1 "$dest_dir/libonnxruntime.so"
}

if [ -f "$dest" ] && [ "$(sha_of "$dest")" = "$ORT_SHA256" ]; then
  ensure_symlink
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  say "npm is needed to download onnxruntime-node@$ORT_VERSION (it holds libonnxruntime.so.1)."
  say "Install Node.js/npm, or set EMBEDDINGS_ONNXRUNTIME to an existing libonnxruntime.so.1."
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/embeddings-ort.XXXXXX")"
trap 'rm -rf "$work"' EXIT

say "downloading onnxruntime-node@$ORT_VERSION with npm pack (about 113 MB, scripts not run) ..."
# --ignore-scripts: npm pack of a registry spec runs no scripts, but say so anyway. A private cache in the
# temp dir keeps the 113 MB tarball from staying behind in ~/.npm.
tarball="$(cd "$work" && npm pack --silent --ignore-scripts --cache "$work/npm-cache" "onnxruntime-node@$ORT_VERSION" | tail -n 1)"
if [ ! -f "$work/$tarball" ]; then
  say "npm pack did not produce a tarball (got '$tarball')."
  exit 1
fi

tar -xzf "$work/$tarball" -C "$work" "$TARBALL_MEMBER"
rm -f "$work/$tarball"

got="$(sha_of "$work/$TARBALL_MEMBER")"
if [ "$got" != "$ORT_SHA256" ]; then
  say "sha256 mismatch for $TARBALL_MEMBER: expected $ORT_SHA256, got $got. Nothing installed."
  exit 1
fi

mkdir -p "$dest_dir"
# Move into place atomically: a half-copied library is never visible under the final name.
cp "$work/$TARBALL_MEMBER" "$dest.tmp.$$"
chmod 0644 "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
ensure_symlink
say "installed $dest (sha256 checked)."
