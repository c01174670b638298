#!/usr/bin/env bash
# Builds the CUDA binaries on this (development) machine and assembles `gpu-pack/` (git-ignored),
# everything the GPU machine needs besides the repository and its own driver, cuBLAS and NVRTC:
#
#   gpu-pack/bin/amp, gpu-pack/bin/cuda_check     the `--features cuda` builds, debug info stripped
#   gpu-pack/nvrtc/include.tar.gz                 the toolkit headers dfdx's run-time (NVRTC) kernels
#   gpu-pack/nvrtc/out/*.cuh                      include, and dfdx's own headers from its OUT_DIR
#   gpu-pack/manifest.env                         the absolute paths the binaries read them from
#                                                 (compiled in by dfdx: env!("CUDA_INCLUDE_DIR"),
#                                                 env!("OUT_DIR")), the compute capability, the commit
#
# Then on the GPU machine, from the repository root: bash scripts/gpu/run.sh gpu-pack
# (with the device tool: carry ["gpu-pack"]; the pack stays well under its 64 MiB).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PACK="${1:-$REPO/gpu-pack}"
cd "$REPO"

die() { printf 'pack: %s\n' "$*" >&2; exit 1; }

[[ -f .cuda/env.sh ]] || bash scripts/cuda/setup-toolkit.sh
# shellcheck disable=SC1091
source .cuda/env.sh
[[ -n "${CARGO_TARGET_DIR:-}" ]] || die ".cuda/env.sh sets no CARGO_TARGET_DIR"

echo "== building (target dir $CARGO_TARGET_DIR, sm_$CUDA_COMPUTE_CAP)"
started=$(date +%s)
cargo build --release --features cuda --bin amp
cargo build --release -p amp-examples --features cuda --example cuda_check
echo "== built in $(($(date +%s) - started)) s"

REL="$CARGO_TARGET_DIR/release"
BINS=("$REL/amp" "$REL/examples/cuda_check")

# dfdx's OUT_DIR: the build folder whose path the binaries carry (one per dfdx feature set).
out_dir=""
for d in "$REL"/build/dfdx-*/out; do
    [[ -f "$d/cuda_utils.cuh" ]] || continue
    if grep -qaF "$d" "${BINS[0]}" && grep -qaF "$d" "${BINS[1]}"; then out_dir="$d"; fi
done
[[ -n "$out_dir" ]] || die "no dfdx OUT_DIR with cuda_utils.cuh whose path both binaries embed"
include_dir="$CUDA_ROOT/include"
for b in "${BINS[@]}"; do
    grep -qaF "$include_dir" "$b" || die "$b does not embed $include_dir (built with another CUDA_ROOT?)"
done

rm -rf "$PACK"
mkdir -p "$PACK/bin" "$PACK/nvrtc/out"
for b in "${BINS[@]}"; do
    objcopy --strip-debug "$b" "$PACK/bin/$(basename "$b")"
done
cp "$out_dir"/*.cuh "$PACK/nvrtc/out/"
tar -C "$include_dir/" -chzf "$PACK/nvrtc/include.tar.gz" .
python3 "$REPO/scripts/gpu/nvrtc_check.py" "$PACK/nvrtc" "$CUDA_ROOT/lib64/libnvrtc.so" "$CUDA_COMPUTE_CAP"

cat >"$PACK/manifest.env" <<MANIFEST
# Written by scripts/gpu/pack.sh on $(date -u +%FT%TZ)
AMP_PACK_COMMIT=$(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo "+dirty")
AMP_PACK_CAP=$CUDA_COMPUTE_CAP
AMP_PACK_NVCC="$(nvcc --version | grep -oE 'V[0-9.]+')"
AMP_NVRTC_CUDA_INCLUDE_DIR="$include_dir"
AMP_NVRTC_OUT_DIR="$out_dir"
MANIFEST
echo "== $PACK ($(du -sh "$PACK" | cut -f1)):"
(cd "$PACK" && find . -type f -exec ls -l {} + | awk '{printf "  %8.1f MiB  %s\n", $5/1048576, $9}')
