#!/usr/bin/env bash
# The GPU check, in one call on the GPU machine (no Rust toolchain needed there), from the
# repository root, with the pack built by scripts/gpu/pack.sh on the development machine:
#
#   bash scripts/gpu/run.sh [PACK]          # PACK defaults to gpu-pack
#
# It runs the stages in scripts/gpu/stages/ in file-name order. Each file defines one function,
# `stage_<name>` (its name without the number and .sh), which adds rows to the results table
# with `row` (see lib.sh); a stage that fails adds a FAIL row and the next stage still runs.
# To add a check (a per-op parity run, a benchmark), drop in a new numbered file: nothing else
# changes. AMP_GPU_STAGES="env runtime parity" runs a subset, in that order.
# The whole run stays under 8 minutes: each stage has its own time limit (lib.sh's `timed`).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PACK="$(cd "${1:-gpu-pack}" 2>/dev/null && pwd)" || {
    echo "run.sh: no pack at '${1:-gpu-pack}': build it with scripts/gpu/pack.sh and carry it" >&2
    exit 2
}
cd "$REPO"
# shellcheck source=scripts/gpu/lib.sh
source scripts/gpu/lib.sh
# shellcheck disable=SC1091
source "$PACK/manifest.env"

declare -a STAGES=()
for f in scripts/gpu/stages/[0-9]*.sh; do
    # shellcheck disable=SC1090
    source "$f"
    name="$(basename "$f" .sh)"
    STAGES+=("${name#*-}")
done
if [[ -n "${AMP_GPU_STAGES:-}" ]]; then
    read -r -a STAGES <<<"$AMP_GPU_STAGES"
fi

echo "amp GPU check: pack of commit $AMP_PACK_COMMIT (nvcc $AMP_PACK_NVCC, sm_$AMP_PACK_CAP); stages: ${STAGES[*]}"
START=$(date +%s)
for s in "${STAGES[@]}"; do
    declare -F "stage_$s" >/dev/null || { row "$s" "stage" FAIL "no function stage_$s in scripts/gpu/stages/"; continue; }
    echo
    echo "=== stage $s ($(($(date +%s) - START)) s in)"
    "stage_$s" || row "$s" "stage" FAIL "exit status $? (output above)"
done
echo
echo "=== results ($(($(date +%s) - START)) s)"
print_table
grep -q '| FAIL |' "$RESULTS" && exit 1
exit 0
