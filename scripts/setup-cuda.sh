#!/usr/bin/env bash
# Installs the GPU (CUDA 13) build of ONNX Runtime 1.31.0 into .native/onnxruntime-gpu-1.31.0/, where
# `--device cuda` finds it (OnnxRuntimeLibrary in src/Embeddings.Engine/Encoding). Opt-in (scripts/setup.sh --cuda):
# the NuGet package Microsoft.ML.OnnxRuntime.Gpu.Linux is a 245 MB download and its libraries take 318 MB.
# The package is fetched by `dotnet restore` of a throw-away project with one PackageDownload (NuGet's own client,
# no dependencies); only libonnxruntime.so, libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so
# are copied, each sha256 checked. At run time they need the NVIDIA driver, CUDA 13 (libcudart.so.13,
# libcublas.so.13, libcublasLt.so.13, libcurand.so.10) and cuDNN 9 (libcudnn.so.9) on the loader path; the CPU
# build is unaffected (it stays beside the program).
set -euo pipefail

VERSION=1.31.0
PACKAGE=Microsoft.ML.OnnxRuntime.Gpu.Linux
declare -A SHA256=(
  [libonnxruntime.so]=7a7a2cfec3da75774dd8116e6a31fe466b46f5f6901e3fa87350d9391a840bfa
  [libonnxruntime_providers_cuda.so]=5ea2ec896db647cd9bb1ab08e943cda07d497975b6d6b967a2bd88b8a1303f00
  [libonnxruntime_providers_shared.so]=c6a12593396095f5670160e284c35d1700b7708cf3037b7042e2a5200ccae772
)

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$repo_root/.native/onnxruntime-gpu-$VERSION"
say() { echo "setup-cuda: $*" >&2; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

complete=1
for f in "${!SHA256[@]}"; do
  if [ ! -f "$dest/$f" ] || [ "$(sha_of "$dest/$f")" != "${SHA256[$f]}" ]; then complete=0; fi
done
if [ "$complete" = 1 ]; then
  exit 0
fi

packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
native="$packages/$(echo "$PACKAGE" | tr '[:upper:]' '[:lower:]')/$VERSION/runtimes/linux-x64/native"
if [ ! -f "$native/libonnxruntime_providers_cuda.so" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/embeddings-cuda.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  cat >"$work/fetch.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="$PACKAGE" Version="[$VERSION]" />
  </ItemGroup>
</Project>
XML
  say "downloading $PACKAGE $VERSION (about 245 MB) with dotnet restore ..."
  dotnet restore "$work/fetch.csproj" -nologo -v quiet >&2
fi

mkdir -p "$repo_root/.native"
stage="$(mktemp -d "$repo_root/.native/.gpu.XXXXXX")"
for f in "${!SHA256[@]}"; do
  cp "$native/$f" "$stage/$f"
  got="$(sha_of "$stage/$f")"
  if [ "$got" != "${SHA256[$f]}" ]; then
    rm -rf "$stage"
    say "sha256 mismatch for $f: expected ${SHA256[$f]}, got $got. Nothing installed."
    exit 1
  fi
done
rm -rf "$dest"
mv "$stage" "$dest"
chmod 0755 "$dest"
say "installed the GPU build of ONNX Runtime $VERSION into $dest (sha256 checked)."
say "it needs the NVIDIA driver, CUDA 13 and cuDNN 9 at run time; check with scripts/gpu-check.sh."
