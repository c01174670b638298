# amp on the GPU: ResNet-18 and VGG-16, CIFAR 32x32, batch 128, fp32 (TF32 off unless
# AMP_CUDA_TF32=1), one train step = forward, cross-entropy, backward, SGD; taps off and on
# (output mode, every candidate measured and amplified). Then ResNet-18 on dfdx's generic
# ops (AMP_NN_CUDA=generic): the path before amp-nn's kernels, for comparison, and with the
# GPU memory pool returning freed memory at every sync (AMP_CUDA_POOL=release, the driver's
# default; amp keeps it, see amp_nn::cuda::retain_freed_memory). With the cuDNN route
# (scripts/gpu/pending/), convolutions run by cuDNN where the runtime stage found it; rows with
# AMP_NN_CONV=im2col (amp-nn's kernels) and AMP_CUDNN_ALGO=find (cuDNN's timed choice, as
# PyTorch's cudnn.benchmark) beside it.
# AMP_BENCH_MODELS (default "resnet18 vgg16") and AMP_BENCH_EXTRA=0 (skip the TF32 and generic
# rows) shorten it. A pack with a baseline (pack.sh's AMP_PACK_BASE) runs it right after each of
# these runs, in rows named "base <commit>", so that both are measured on the same card in turn.
stage_bench() {
    local log m t
    log="$(mktemp)"
    for m in ${AMP_BENCH_MODELS:-resnet18 vgg16}; do
        for t in off on; do
            timed 60 "$log" "$PACK/bin/gpu_check" bench "$m" "$t" || row bench "$m taps $t" FAIL "exit status (see above)"
            gpu_rows "$log"
            [[ -x "$PACK/bin/gpu_check.base" ]] || continue
            timed 60 "$log" "$PACK/bin/gpu_check.base" bench "$m" "$t" || row "bench base" "$m taps $t" FAIL "exit status (see above)"
            sed -i "s/^RESULT bench |/RESULT bench base $AMP_PACK_BASE_COMMIT |/" "$log"
            gpu_rows "$log"
        done
    done
    [[ "${AMP_BENCH_EXTRA:-1}" == 1 ]] || return 0
    AMP_NN_CUDA_PROFILE=1 AMP_BENCH_STEPS=5 timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 profile" FAIL "see above"
    gpu_rows "$log"
    AMP_CUDA_TF32=1 timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 tf32" FAIL "see above"
    gpu_rows "$log"
    # The convolution routes side by side: amp-nn's im2col kernels, cuDNN's timed choice.
    AMP_NN_CONV=im2col timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 im2col" FAIL "see above"
    gpu_rows "$log"
    AMP_CUDNN_ALGO=find timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 cudnn find" FAIL "see above"
    gpu_rows "$log"
    AMP_CUDA_POOL=release timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 pool released" FAIL "see above"
    gpu_rows "$log"
    AMP_NN_CUDA=generic AMP_BENCH_STEPS=3 timed 60 "$log" "$PACK/bin/gpu_check" bench resnet18 off || row bench "resnet18 generic" FAIL "see above"
    gpu_rows "$log"
}
