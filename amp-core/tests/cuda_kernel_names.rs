//! The kernel names in amp-core's CUDA code (`src/backend/cuda.rs`) against its CUDA source
//! (`src/backend/cuda.cu`, a template instantiated for f32 and f64 by replacing `SUFFIX`).
//!
//! A launch or load of a name that the source does not define compiles and passes every CPU
//! test, then fails on the GPU at its first use; this checks the names on any machine. Kernel
//! names are the only string literals of cuda.rs that end in `_f32` or `_f64`.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    let full = format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn every_kernel_cuda_rs_names_is_defined_and_every_defined_kernel_is_named() {
    let cu = read("backend/cuda.cu");
    let defined: BTreeSet<String> = ["f32", "f64"]
        .iter()
        .flat_map(|suffix| {
            cu.replace("SUFFIX", suffix)
                .split("__global__ void ")
                .skip(1)
                .map(|rest| rest.split('(').next().unwrap().trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let rs = read("backend/cuda.rs");
    let named: BTreeSet<String> = rs
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.ends_with("_f32") || s.ends_with("_f64"))
        .map(str::to_string)
        .collect();
    assert!(defined.len() >= 6, "kernels found in cuda.cu: {defined:?}");
    let undefined: Vec<_> = named.difference(&defined).collect();
    assert!(
        undefined.is_empty(),
        "cuda.rs names kernels cuda.cu does not define: {undefined:?}"
    );
    let unnamed: Vec<_> = defined.difference(&named).collect();
    assert!(
        unnamed.is_empty(),
        "cuda.cu defines kernels cuda.rs never loads: {unnamed:?}"
    );
}
