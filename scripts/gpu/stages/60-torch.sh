# PyTorch on the same GPU: ResNet-18 and VGG-16 CIFAR (batch 128, fp32) train-step time, with
# PyTorch's default TF32 setting (cuDNN convolutions may use TF32, matmuls not) and TF32 off.
# Only where torch with CUDA is already installed: the GPU machine has no network.
# AMP_TORCH_RUNS (default "resnet18:default resnet18:off vgg16:default vgg16:off") picks runs.
stage_torch() {
    if ! python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
        row torch pytorch skip "torch with CUDA is not installed here"
        return 0
    fi
    local log tf32 m run
    log="$(mktemp)"
    for run in ${AMP_TORCH_RUNS:-resnet18:default resnet18:off vgg16:default vgg16:off}; do
        m="${run%%:*}" tf32="${run#*:}"
        {
            timed 150 "$log" python3 scripts/gpu/torch_resnet18.py --model "$m" --tf32 "$tf32" --batch 128 --steps 30 || {
                row torch "$m tf32 $tf32" FAIL "see output above"
                continue
            }
            row torch "$m, tf32 $tf32" "$(first_match '"ms_per_step": \K[0-9.]+' "$log")" \
                "ms/step, $(first_match '"images_per_s": \K[0-9.]+' "$log") img/s, peak allocated $(first_match '"peak_mib": \K[0-9.]+' "$log") MiB, reserved $(first_match '"reserved_mib": \K[0-9.]+' "$log") MiB, torch $(first_match '"torch": "\K[^"]+' "$log"), cuDNN $(first_match '"cudnn": \K[0-9]+' "$log")"
        }
    done
}
