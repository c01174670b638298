# What CUDA user-space libraries and PyTorch this machine has (for the runtime stage, and for a
# rebuild against another CUDA line if cuBLAS/NVRTC 13 are missing).
stage_inventory() {
    local torch
    torch="$(timeout 60 python3 -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null || echo none)"
    row env torch "$torch" ""
    local libs
    libs="$(timeout 30 find /usr /opt /lib /lib64 $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
        \( -name 'libcublas.so.*' -o -name 'libnvrtc.so.*' \) 2>/dev/null | sed 's|.*/||' | sort -u | tr '\n' ' ')"
    row env cuda_libs "${libs:-none}" "cuBLAS/NVRTC sonames found"
}
