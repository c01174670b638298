# The GPU, its driver and compute capability, against what the pack was compiled for.
stage_env() {
    if ! command -v nvidia-smi >/dev/null; then
        row env nvidia-smi FAIL "not found: no NVIDIA driver on this machine"
        return 1
    fi
    local q
    q="$(nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv,noheader | head -1)"
    echo "$q"
    IFS=',' read -r name driver cap mem <<<"$q"
    row env gpu ok "$name,$mem"
    row env driver "$driver" "CUDA $(nvidia-smi | grep -oP 'CUDA Version: \K[0-9.]+' | head -1)"
    local have="${cap//[ .]/}"
    if [[ "$have" == "$AMP_PACK_CAP" ]]; then
        row env compute_cap "sm_$have" "matches the pack's PTX"
    elif ((have > AMP_PACK_CAP)); then
        row env compute_cap "sm_$have" "pack has sm_$AMP_PACK_CAP PTX: the driver JIT-compiles it"
    else
        row env compute_cap FAIL "GPU is sm_$have, pack built for sm_$AMP_PACK_CAP: rebuild with CUDA_COMPUTE_CAP=$have"
        return 1
    fi
}
