#!/usr/bin/env bash
# Builds the CUDA binaries on this (development) machine and assembles `gpu-pack/` (git-ignored),
# everything the GPU machine needs besides the repository and its own driver, cuBLAS and NVRTC:
#
#   gpu-pack/bin/amp, gpu-pack/bin/gpu_check      the `--features cuda` builds, debug info stripped
#   gpu-pack/bin/gpu_check.base                   with AMP_PACK_BASE=<git ref>: gpu_check as of that
#                                                 ref too, so that the bench stage measures the working
#                                                 tree against it on the same card in the same call
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

# AMP_PACK_BINS="gpu_check" packs only the check binary (a quicker build: the amp binary
# instantiates every model); stages that need `amp` then report it missing.
WANT="${AMP_PACK_BINS:-gpu_check amp}"
started=$(date +%s)
REL="$CARGO_TARGET_DIR/release"
BINS=()
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

# The baseline: built in a worktree of its own under target/ with a target folder of its own
# ($CARGO_TARGET_DIR-base), both kept so the next build is incremental. (Two checkouts cannot
# share a target folder: cargo names their artifacts alike and each build overwrites the
# other's.) Its binary embeds its own dfdx OUT_DIR, which the manifest records too.
BASE_COMMIT=""
BASE_REL=""
if [[ -n "${AMP_PACK_BASE:-}" ]]; then
    BASE_COMMIT="$(git rev-parse --short "$AMP_PACK_BASE^{commit}")" || die "AMP_PACK_BASE: no commit $AMP_PACK_BASE"
    tree="$REPO/target/base-tree"
    [[ -d "$tree" ]] || git worktree add --detach "$tree" "$BASE_COMMIT" >/dev/null
    git -C "$tree" checkout -q --detach "$BASE_COMMIT"
    BASE_REL="$CARGO_TARGET_DIR-base/release"
    echo "== building gpu_check at $AMP_PACK_BASE ($BASE_COMMIT), in $tree, target dir $CARGO_TARGET_DIR-base"
    (cd "$tree" && CARGO_TARGET_DIR="$CARGO_TARGET_DIR-base" cargo build --release -p amp-examples --features cuda --example gpu_check)
    cp "$BASE_REL/examples/gpu_check" "$STAGE/gpu_check.base"
fi

echo "== building $WANT (target dir $CARGO_TARGET_DIR, sm_$CUDA_COMPUTE_CAP)"
for b in $WANT; do
    case "$b" in
        gpu_check) cargo build --release -p amp-examples --features cuda --example gpu_check
                   BINS+=("$REL/examples/gpu_check") ;;
        amp) cargo build --release --features cuda --bin amp
             BINS+=("$REL/amp") ;;
        *) die "AMP_PACK_BINS: unknown binary $b (gpu_check, amp)" ;;
    esac
done
echo "== built in $(($(date +%s) - started)) s"

# The absolute paths the binaries' NVRTC kernels read headers from (dfdx's OUT_DIR, one per dfdx
# feature set and target folder, and $CUDA_ROOT/include). A binary that runs no NVRTC-compiled op
# embeds neither.
# embedded_out_dir BIN REL: the one dfdx OUT_DIR under REL that BIN embeds.
embedded_out_dir() {
    local found
    found="$(grep -aoE "$2/build/dfdx-[0-9a-f]+/out" "$1" | sort -u || true)"
    [[ -n "$found" && "$(wc -l <<<"$found")" == 1 && -f "$found/cuda_utils.cuh" ]] || die "$1 embeds no single dfdx OUT_DIR with headers under $2: $found"
    echo "$found"
}
out_dir=""
for b in "${BINS[@]}"; do
    found="$(embedded_out_dir "$b" "$REL")"
    [[ -z "$out_dir" || "$out_dir" == "$found" ]] || die "the binaries embed different dfdx OUT_DIRs: $out_dir, $found"
    out_dir="$found"
done
base_out_dir=""
if [[ -n "$BASE_REL" ]]; then
    base_out_dir="$(embedded_out_dir "$STAGE/gpu_check.base" "$BASE_REL")"
    BINS+=("$STAGE/gpu_check.base")
fi
include_dir="$CUDA_ROOT/include"
grep -qaF "$include_dir" "${BINS[@]}" || die "no binary embeds $include_dir (built with another CUDA_ROOT?)"

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
AMP_PACK_BASE_COMMIT=$BASE_COMMIT
AMP_PACK_NVCC="$(nvcc --version | grep -oE 'V[0-9.]+')"
AMP_NVRTC_CUDA_INCLUDE_DIR="$include_dir"
AMP_NVRTC_OUT_DIR="$out_dir"
AMP_NVRTC_OUT_DIR_BASE="$base_out_dir"
MANIFEST
echo "== $PACK ($(du -sh "$PACK" | cut -f1)):"
(cd "$PACK" && find . -type f -exec ls -l {} + | awk '{printf "  %8.1f MiB  %s\n", $5/1048576, $9}')
