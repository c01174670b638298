# Per-op parity: every amp-nn CUDA kernel (conv, batch norm train/eval, max/avg pooling), forward
# and backward, against the Cpu kernels on small shapes (tolerance 1e-4 relative to the largest
# value, TF32 off), and run-to-run bit identity on the GPU. Then one tapped ResNet-18 training
# step (loss, per-layer parameter- and output-gradient norms; tolerance 1e-3).
# A binary with the cuDNN route (scripts/gpu/pending/) runs convolutions by cuDNN where the
# runtime stage found it; the op checks then run again with AMP_NN_CONV=im2col (rows "parity
# im2col"), so that both routes are checked.
stage_parity() {
    local log
    log="$(mktemp)"
    timed 60 "$log" "$PACK/bin/gpu_check" parity
    local rc=$?
    gpu_rows "$log"
    ((rc == 0)) || row parity run FAIL "exit status $rc"
    AMP_NN_CONV=im2col timed 60 "$log" "$PACK/bin/gpu_check" parity
    rc=$?
    sed -i 's/^RESULT parity |/RESULT parity im2col |/' "$log"
    gpu_rows "$log"
    ((rc == 0)) || row "parity im2col" run FAIL "exit status $rc"
    timed 60 "$log" "$PACK/bin/gpu_check" step
    rc=$?
    gpu_rows "$log"
    ((rc == 0)) || row step run FAIL "exit status $rc"
}
