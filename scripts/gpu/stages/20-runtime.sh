# What the binaries load at run time: the driver's libcuda, cuBLAS 13 and NVRTC 13 from this
# machine (found and put on LD_LIBRARY_PATH), and the headers dfdx's NVRTC kernels include,
# restored at the absolute paths compiled into the binaries (see README "CUDA build").

# lib_dir NAME: the folder of the first NAME found on LD_LIBRARY_PATH or in the usual places of a
# CUDA 13 install (ldconfig, /usr/local/cuda*, pip's nvidia/cu13/lib, e.g. beside torch).
lib_dir() {
    local hit
    hit="$(ldconfig -p 2>/dev/null | awk -v n="$1" '$1 == n {print $NF; exit}')"
    if [[ -z "$hit" ]]; then
        local site ldp="${LD_LIBRARY_PATH:-}"  # unset on some machines (run.sh has set -u)
        site="$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)"
        # shellcheck disable=SC2086
        hit="$(find ${ldp//:/ } /usr/local/cuda*/lib64 /usr/local/cuda*/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu \
            $site -maxdepth 4 -name "$1" 2>/dev/null | head -1)"
    fi
    [[ -n "$hit" ]] && dirname "$hit"
}

restore_headers() {
    local inc="$AMP_NVRTC_CUDA_INCLUDE_DIR" out
    if [[ ! -f "$inc/cuda_fp16.h" ]]; then
        mkdir -p "$inc" && tar -C "$inc" -xzf "$PACK/nvrtc/include.tar.gz" || {
            row runtime nvrtc_headers FAIL "cannot create $inc (compiled into the binaries)"
            return 1
        }
    fi
    # The baseline binary of a pack made with AMP_PACK_BASE has a dfdx build folder of its own.
    for out in "$AMP_NVRTC_OUT_DIR" ${AMP_NVRTC_OUT_DIR_BASE:-}; do
        [[ -f "$out/cuda_utils.cuh" ]] && continue
        mkdir -p "$out" && cp "$PACK"/nvrtc/out/*.cuh "$out/" || {
            row runtime nvrtc_headers FAIL "cannot create $out (compiled into the binaries)"
            return 1
        }
    done
    row runtime nvrtc_headers ok "at the build's paths: $inc, $AMP_NVRTC_OUT_DIR${AMP_NVRTC_OUT_DIR_BASE:+, $AMP_NVRTC_OUT_DIR_BASE}"
}

stage_runtime() {
    local lib dir dirs=""
    for lib in libcublas.so.13 libcublasLt.so.13 libnvrtc.so.13 libnvrtc-builtins.so.13.0; do
        dir="$(lib_dir "$lib")"
        if [[ -z "$dir" ]]; then
            row runtime "$lib" FAIL "not found (ldconfig, LD_LIBRARY_PATH, /usr/local/cuda*, python site-packages)"
            return 1
        fi
        [[ ":$dirs:" == *":$dir:"* ]] || dirs="${dirs:+$dirs:}$dir"
    done
    export LD_LIBRARY_PATH="$dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    row runtime libraries ok "$dirs"
    # cuDNN is optional: a binary with amp-nn's cuDNN route (scripts/gpu/pending/) loads it at
    # run time for the convolutions; gpu_check's rows say which route ran.
    dir="$(lib_dir libcudnn.so.9)"
    if [[ -n "$dir" ]]; then
        export LD_LIBRARY_PATH="$dir:$LD_LIBRARY_PATH"
        row runtime cudnn ok "libcudnn.so.9 in $dir"
    else
        row runtime cudnn skip "libcudnn.so.9 not found: convolutions by amp-nn's im2col kernels"
    fi
    # NVRTC newer than the driver's CUDA version writes PTX the driver cannot load.
    local nvrtc_v
    nvrtc_v="$(python3 -c 'import ctypes; l = ctypes.CDLL("libnvrtc.so.13"); a, b = ctypes.c_int(), ctypes.c_int(); l.nvrtcVersion(ctypes.byref(a), ctypes.byref(b)); print(f"{a.value}.{b.value}")' 2>/dev/null)"
    row runtime nvrtc_version "${nvrtc_v:-?}" "must not be newer than the driver's CUDA version (nvidia-smi)"
    local missing
    missing="$(ldd "$PACK"/bin/* | grep 'not found' | sort -u | tr -s ' \t\n' ' ')"
    if [[ -n "$missing" ]]; then
        row runtime ldd FAIL "$missing"
        return 1
    fi
    restore_headers
}
