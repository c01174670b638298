#!/usr/bin/env bash
# Assembles, from PyPI wheels, what `cargo build --release --features cuda` needs on a machine
# without a CUDA toolkit (see README "CUDA build"), in `.cuda/` at the repository root
# (git-ignored), and writes `.cuda/env.sh` with the environment to build and run with.
#
#   bash scripts/cuda/setup-toolkit.sh        # then: source .cuda/env.sh
#
# What it lays out, and why:
#   .cuda/pip/            the pinned CUDA 13.0 wheels (`pip install --target`): nvcc + nvvm (cicc,
#                         ptxas) to compile dfdx's kernels to PTX, crt + cccl + runtime headers
#                         (cuda.h, cuda_fp16.h, ...), libnvrtc (dfdx compiles a few kernels at run
#                         time), libcublas + libcublasLt (dfdx's matmuls).
#   .cuda/root/           a CUDA_ROOT-shaped view of it: bin/ include/ nvvm/ lib/ (links into the
#                         wheels) and lib64/ with the unversioned names the linker wants
#                         (libcublas.so -> libcublas.so.13, ...).
#   .cuda/root/lib64/stubs/libcuda.so
#                         a link-time stand-in for the driver library (soname libcuda.so.1),
#                         as a toolkit's own stubs/, exporting every cu* function cudarc 0.9.15
#                         declares. Each returns CUDA_ERROR_STUB_LIBRARY (34), except
#                         cuGetErrorName/String, which describe that error. At run time the real
#                         driver's libcuda.so.1 is loaded instead (the binary records only the soname).
#   .cuda/nodriver/libcuda.so.1
#                         the same stub under its run-time name, put on LD_LIBRARY_PATH by env.sh
#                         only on a machine without a driver, so that the cuda binary starts there
#                         and reports "no CUDA device" instead of failing to load.
#   .cuda/standin/nvidia-smi
#                         only where no nvidia-smi exists: dfdx's build script asks it for the
#                         compute capability; this one prints $CUDA_COMPUTE_CAP (default 90: sm_90,
#                         H100/H200).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CUDA_DIR="$REPO/.cuda"
PIP_DIR="$CUDA_DIR/pip"
ROOT="$CUDA_DIR/root"
CAP="${CUDA_COMPUTE_CAP:-90}"

# The CUDA 13.0 line (driver 580). Bump together; `nvcc --version` must stay 13.0.
WHEELS=(
    nvidia-cuda-nvcc==13.0.88
    nvidia-nvvm==13.0.88
    nvidia-cuda-crt==13.0.88
    nvidia-cuda-cccl==13.0.85
    nvidia-cuda-runtime==13.0.96
    nvidia-cuda-nvrtc==13.0.88
    nvidia-cublas==13.0.2.14
)

say() { printf '== %s\n' "$*"; }
die() { printf 'setup-toolkit: %s\n' "$*" >&2; exit 1; }

command -v "${PYTHON:-python3}" >/dev/null || die "python3 with pip is needed (set PYTHON=...)"
command -v cc >/dev/null || die "a C compiler (cc) is needed for the libcuda stub and as nvcc's host compiler"

install_wheels() {
    if [[ -f "$PIP_DIR/.pinned" ]] && [[ "$(cat "$PIP_DIR/.pinned")" == "${WHEELS[*]}" ]]; then
        say "wheels already installed in $PIP_DIR"
        return
    fi
    say "pip install --target $PIP_DIR ${WHEELS[*]}"
    rm -rf "$PIP_DIR"
    "${PYTHON:-python3}" -m pip install --quiet --no-deps --disable-pip-version-check \
        --target "$PIP_DIR" "${WHEELS[@]}"
    echo "${WHEELS[*]}" >"$PIP_DIR/.pinned"
}

# CUDA_ROOT layout: links into the wheels' nvidia/cu13 tree plus lib64/ with unversioned names.
assemble_root() {
    local cu="$PIP_DIR/nvidia/cu13"
    [[ -f "$cu/include/cuda.h" && -x "$cu/bin/nvcc" ]] || die "wheels lack include/cuda.h or bin/nvcc under $cu"
    rm -rf "$ROOT"
    mkdir -p "$ROOT/lib64/stubs"
    local d
    for d in bin include nvvm lib; do ln -s "../pip/nvidia/cu13/$d" "$ROOT/$d"; done
    local lib
    for lib in cublas cublasLt nvrtc cudart; do
        [[ -f "$cu/lib/lib$lib.so.13" ]] || die "missing $cu/lib/lib$lib.so.13"
        ln -s "../lib/lib$lib.so.13" "$ROOT/lib64/lib$lib.so"
        ln -s "../lib/lib$lib.so.13" "$ROOT/lib64/lib$lib.so.13"
    done
    ln -s "../lib/libnvrtc-builtins.so.13.0" "$ROOT/lib64/libnvrtc-builtins.so.13.0"
}

has_driver() { ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; }

# The cu* functions cudarc declares, read from its bindings (the crate is in cargo's registry
# once `cargo fetch` has run; the lockfile pins 0.9.15).
cudarc_symbols() {
    local sys
    sys="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.9.15/src/driver/sys.rs 2>/dev/null | head -1)"
    if [[ -z "$sys" ]]; then
        (cd "$REPO" && cargo fetch --quiet) || die "cargo fetch failed; cudarc 0.9.15's source is needed"
        sys="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.9.15/src/driver/sys.rs | head -1)"
    fi
    grep -oE 'pub fn cu[A-Za-z0-9_]+\(' "$sys" | sed -E 's/pub fn (.*)\(/\1/' | sort -u
}

build_libcuda_stub() {
    local src="$CUDA_DIR/libcuda_stub.c" so="$ROOT/lib64/stubs/libcuda.so"
    local syms
    syms="$(cudarc_symbols)"
    [[ -n "$syms" ]] || die "found no cu* functions in cudarc's bindings"
    {
        echo '/* Generated by scripts/cuda/setup-toolkit.sh: link-time stand-in for libcuda.so.1. */'
        echo '#define STUB 34 /* CUDA_ERROR_STUB_LIBRARY */'
        echo 'int cuGetErrorName(int e, const char **s) { *s = e == STUB ? "CUDA_ERROR_STUB_LIBRARY" : "CUDA_ERROR_UNKNOWN"; return 0; }'
        echo 'int cuGetErrorString(int e, const char **s) {'
        echo '    *s = e == STUB ? "the CUDA driver library loaded is a stub (amp .cuda/ stand-in): no NVIDIA driver is installed on this machine" : "unknown error (amp libcuda stub)";'
        echo '    return 0;'
        echo '}'
        grep -vxE 'cuGetError(Name|String)' <<<"$syms" | sed -E 's/.*/int &(void) { return STUB; }/'
    } >"$src"
    cc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$so" "$src"
    mkdir -p "$CUDA_DIR/nodriver"
    ln -sf "../root/lib64/stubs/libcuda.so" "$CUDA_DIR/nodriver/libcuda.so.1"
    say "libcuda link stub: $(grep -c '^int cu' "$src") functions -> $so"
}

make_nvidia_smi_standin() {
    mkdir -p "$CUDA_DIR/standin"
    cat >"$CUDA_DIR/standin/nvidia-smi" <<'SMI'
#!/usr/bin/env bash
# Stand-in written by scripts/cuda/setup-toolkit.sh (no nvidia-smi on this machine): answers
# dfdx's build script with the compute capability in $CUDA_COMPUTE_CAP (default 90 = sm_90).
cap="${CUDA_COMPUTE_CAP:-90}"
if [[ "$*" == *"--query-gpu=compute_cap"* ]]; then
    printf 'compute_cap\n%s.%s\n' "${cap%?}" "${cap: -1}"
else
    echo "nvidia-smi stand-in (amp .cuda/standin): no NVIDIA driver here; only --query-gpu=compute_cap" >&2
    exit 9
fi
SMI
    chmod +x "$CUDA_DIR/standin/nvidia-smi"
    say "no nvidia-smi here: stand-in at $CUDA_DIR/standin/nvidia-smi (compute cap from \$CUDA_COMPUTE_CAP, default 90)"
}

write_env() {
    local path="$ROOT/bin" ld="$ROOT/lib64"
    if ! command -v nvidia-smi >/dev/null || [[ "$(command -v nvidia-smi)" == "$CUDA_DIR/standin/nvidia-smi" ]]; then
        make_nvidia_smi_standin
        path="$path:$CUDA_DIR/standin"
    fi
    has_driver || ld="$ld:$CUDA_DIR/nodriver"
    cat >"$CUDA_DIR/env.sh" <<ENV
# Written by scripts/cuda/setup-toolkit.sh. Source it, then: cargo build --release --features cuda
export CUDA_ROOT="$ROOT"
export CUDA_COMPUTE_CAP="$CAP"
export PATH="$path:\$PATH"
export LD_LIBRARY_PATH="$ld\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export CARGO_TARGET_DIR="$REPO/target/cuda"
ENV
}

check() {
    # shellcheck disable=SC1091
    source "$CUDA_DIR/env.sh"
    nvcc --version | grep -q 'release 13\.0' || die "nvcc is not CUDA 13.0: $(nvcc --version | tail -1)"
    nvcc --list-gpu-code | grep -qx "sm_$CAP" || die "nvcc cannot target sm_$CAP"
    [[ "$(nvidia-smi --query-gpu=compute_cap --format=csv | tail -1)" != "" ]] || die "nvidia-smi gives no compute_cap"
    local probe="$CUDA_DIR/probe.cu"
    printf '#include "cuda_fp16.h"\nextern "C" __global__ void k(__half *x) { x[0] = __float2half(1.0f); }\n' >"$probe"
    nvcc --gpu-architecture="sm_$CAP" --ptx --output-directory "$CUDA_DIR" "$probe" \
        || die "nvcc could not compile a probe kernel"
    rm -f "$probe" "$CUDA_DIR/probe.ptx"
    say "nvcc $(nvcc --version | grep -oE 'V[0-9.]+') compiles for sm_$CAP"
}

mkdir -p "$CUDA_DIR"
install_wheels
assemble_root
# Always: like a toolkit's own lib64/stubs, it serves linking even where a driver is installed
# (whose package may lack the unversioned libcuda.so); the binary records only the soname.
build_libcuda_stub
write_env
check
say "download: $(du -sh --apparent-size "$PIP_DIR" | cut -f1) installed in $PIP_DIR"
echo
echo "Environment (also in .cuda/env.sh; 'source .cuda/env.sh'):"
sed -n 's/^export /  export /p' "$CUDA_DIR/env.sh"
echo "Then: cargo build --release --features cuda    (target dir: target/cuda)"
