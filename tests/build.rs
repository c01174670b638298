//! Compiles amp's CUDA C kernels as plain C++ for tests/tests/cuda_kernels_on_cpu.rs (see
//! kernels_on_cpu/shim.cpp). amp-core's kernel source is a template (`REAL`, `SUFFIX`) that
//! amp-core instantiates at run time; the f32 instance is written here the same way.

use std::path::PathBuf;

fn main() {
    let repo = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let core = repo.join("amp-core/src/backend/cuda.cu");
    let src = std::fs::read_to_string(&core).expect("amp-core/src/backend/cuda.cu");
    std::fs::write(
        out.join("amp_core_f32.cu"),
        src.replace("REAL", "float").replace("SUFFIX", "f32"),
    )
    .unwrap();
    for f in [
        "tests/kernels_on_cpu/shim.cpp",
        "amp-nn/src/conv2d/cuda.cu",
        "amp-nn/src/pool/cuda.cu",
        "amp-nn/src/batchnorm2d/cuda.cu",
        "amp-core/src/backend/cuda.cu",
        "tests/kernels_on_cpu/faulty.cu",
    ] {
        println!("cargo:rerun-if-changed={}", repo.join(f).display());
    }
    cc::Build::new()
        .cpp(true)
        .file(repo.join("tests/kernels_on_cpu/shim.cpp"))
        .include(&repo)
        .include(&out)
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-sign-compare")
        // shim.cpp's fibers _longjmp between stacks, which glibc's fortified longjmp refuses.
        .flag("-U_FORTIFY_SOURCE")
        // Linked by the one test that uses it (`#[link]` there), not into every test.
        .cargo_metadata(false)
        .compile("amp_kernels_on_cpu");
    println!("cargo:rustc-link-search=native={}", out.display());
}
