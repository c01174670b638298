# examples/cuda_check: one tapped training step on Cpu and Cuda from the same weights and inputs
# (per-layer gradient norms compared), then a few epochs of training on each device.
# Tolerance: relative difference of the per-layer gradient norms at most 1e-4.
stage_cuda_check() {
    local log tol=1e-4
    log="$(mktemp)"
    timed 240 "$log" "$PACK/bin/cuda_check" || {
        row cuda_check run FAIL "exit status (see output above)"
        return 1
    }
    local gw go lg
    gw="$(first_match '\|grad W\| per layer max rel diff \K[0-9.e+-]+' "$log")"
    go="$(first_match '\|grad out\| per layer max rel diff \K[0-9.e+-]+' "$log")"
    lg="$(first_match 'logits +max rel diff \K[0-9.e+-]+' "$log")"
    local what val
    for what in "grad_W_norms:$gw" "grad_out_norms:$go"; do
        val="${what#*:}"
        if [[ -n "$val" ]] && python3 -c "import sys; sys.exit(0 if float('$val') <= $tol else 1)"; then
            row cuda_check "${what%%:*} max rel diff" "$val" "tapped step, Cpu vs Cuda, tol $tol"
        else
            row cuda_check "${what%%:*} max rel diff" FAIL "${val:-missing} (tol $tol)"
        fi
    done
    row cuda_check "logits max rel diff" "${lg:-?}" "informational"
    local last
    last="$(grep -E '^ +[0-9]+ +[0-9.]+ +[0-9.]+ ' "$log" | tail -1 | awk '{print "cpu " $2 ", cuda " $3}')"
    row cuda_check "final test acc" "${last:-?}" "SmallCnn, synthetic, 6 epochs"
    row cuda_check "wall time" "$(first_match 'wall time: \K.*' "$log")" ""
}
