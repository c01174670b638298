#!/usr/bin/env python3
"""Compiles dfdx 0.13's run-time (NVRTC) kernels against the headers in a GPU pack, unpacked to a
fresh folder, so that a pack missing a header fails here and not on the GPU machine; and amp's own
kernels (amp-nn/src/*/cuda.cu, amp-core/src/backend/cuda.cu) as the binaries compile them at run
time (no include path, NVRTC's default options), so that a kernel that does not compile fails here.

Usage: nvrtc_check.py PACK_NVRTC_DIR LIBNVRTC COMPUTE_CAP

dfdx compiles these kernels with `--include-path` set to the build's CUDA include folder and its
OUT_DIR (reshape_to, concat_along), or the include folder alone (concat, stack, to_dtype). NVRTC
needs no GPU, so this runs on the development machine.
"""
import ctypes
import glob
import os
import re
import sys
import tarfile
import tempfile

KERNEL_FILES = ["concat", "reshape_to", "stack", "concat_along", "to_dtype"]


def dfdx_kernels():
    """(name, source) of every CUDA source string constant in dfdx's NVRTC-compiled ops."""
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    roots = glob.glob(f"{home}/registry/src/*/dfdx-0.13.0/src/tensor_ops")
    if not roots:
        sys.exit("nvrtc_check: dfdx-0.13.0's source is not in cargo's registry")
    found = []
    for op in KERNEL_FILES:
        text = open(f"{roots[0]}/{op}/cuda_kernel.rs").read()
        for name, body in re.findall(r'const (\w+): &str = "(.*?)";', text, re.S):
            if "__global__" in body:
                # Type placeholders ($T, $Ty, $Src, $Dst) as dfdx fills them for f32.
                src = re.sub(r"\$\w+", "float", body.replace('\\"', '"'))
                found.append((f"{op}::{name}", src))
    if len(found) < len(KERNEL_FILES):
        sys.exit(f"nvrtc_check: found only {len(found)} kernels in dfdx's source")
    return found


def amp_kernels():
    """(name, source) of amp's kernels, as the binaries hand them to NVRTC."""
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    found = []
    for f in sorted(glob.glob(f"{repo}/amp-nn/src/*/cuda.cu")):
        found.append((os.path.relpath(f, repo), open(f).read()))
    core = open(f"{repo}/amp-core/src/backend/cuda.cu").read()
    both = "".join(core.replace("REAL", t).replace("SUFFIX", s) for t, s in [("float", "f32"), ("double", "f64")])
    found.append(("amp-core/src/backend/cuda.cu (f32, f64)", both))
    if len(found) < 4:
        sys.exit(f"nvrtc_check: found only {len(found)} amp kernel files")
    return found


def compile_all(lib, kernels, includes, cap):
    nvrtc = ctypes.CDLL(lib)
    opts = ([f"--gpu-architecture=sm_{cap}"] if cap else []) + [f"--include-path={i}" for i in includes]
    c_opts = (ctypes.c_char_p * len(opts))(*[o.encode() for o in opts])
    failures = []
    for name, src in kernels:
        prog = ctypes.c_void_p()
        rc = nvrtc.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), name.encode(), 0, None, None)
        if rc != 0:
            sys.exit(f"nvrtc_check: nvrtcCreateProgram failed ({rc})")
        if nvrtc.nvrtcCompileProgram(prog, len(opts), c_opts) != 0:
            size = ctypes.c_size_t()
            nvrtc.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
            log = ctypes.create_string_buffer(size.value)
            nvrtc.nvrtcGetProgramLog(prog, log)
            failures.append(f"{name}:\n{log.value.decode(errors='replace')}")
        nvrtc.nvrtcDestroyProgram(ctypes.byref(prog))
    return failures


def main():
    pack_nvrtc, lib, cap = sys.argv[1], sys.argv[2], sys.argv[3]
    kernels = dfdx_kernels()
    with tempfile.TemporaryDirectory() as tmp:
        inc = os.path.join(tmp, "include")
        with tarfile.open(os.path.join(pack_nvrtc, "include.tar.gz")) as t:
            t.extractall(inc)
        failures = compile_all(lib, kernels, [inc, os.path.join(pack_nvrtc, "out")], cap)
    if failures:
        sys.exit("nvrtc_check: the pack's headers do not compile dfdx's NVRTC kernels:\n" + "\n".join(failures))
    print(f"== nvrtc_check: dfdx's {len(kernels)} run-time kernels compile (sm_{cap}) with the pack's headers")
    ours = amp_kernels()
    # As at run time (no options), and for the pack's GPU.
    failures = compile_all(lib, ours, [], None) + compile_all(lib, ours, [], cap)
    if failures:
        sys.exit("nvrtc_check: amp's CUDA kernels do not compile:\n" + "\n".join(failures))
    print(f"== nvrtc_check: amp's {len(ours)} kernel files compile (default options and sm_{cap})")


if __name__ == "__main__":
    main()
