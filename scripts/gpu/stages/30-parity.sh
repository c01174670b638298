# Per-op parity: every amp-nn CUDA kernel (conv, batch norm train/eval, max/avg pooling), forward
# and backward, against the Cpu kernels on small shapes (tolerance 1e-4 relative to the largest
# value, TF32 off), and run-to-run bit identity on the GPU. Then one tapped ResNet-18 training
# step (loss, per-layer parameter- and output-gradient norms; tolerance 1e-3).
stage_parity() {
    local log
    log="$(mktemp)"
    timed 60 "$log" "$PACK/bin/gpu_check" parity
    local rc=$?
    gpu_rows "$log"
    ((rc == 0)) || row parity run FAIL "exit status $rc"
    timed 60 "$log" "$PACK/bin/gpu_check" step
    rc=$?
    gpu_rows "$log"
    ((rc == 0)) || row step run FAIL "exit status $rc"
}
