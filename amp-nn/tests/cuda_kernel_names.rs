//! The kernel names in amp-nn's CUDA code against the kernels in its CUDA sources.
//!
//! A launch of a name that its module does not define or load compiles and passes every
//! CPU test, then fails on the GPU at its first call. This checks the names here, on any
//! machine: in each op's `cuda.rs`, every snake_case string literal (kernel names are the
//! only ones; messages and profile labels have spaces) must be a kernel its `cuda.cu`
//! defines, and the module's `funcs` list must load exactly the kernels the source defines.

use std::collections::BTreeSet;

const OPS: [&str; 3] = ["conv2d", "pool", "batchnorm2d"];

fn read(path: &str) -> String {
    let full = format!("{}/src/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// The `extern "C" __global__ void NAME(` kernels of a CUDA source.
fn defined(cu: &str) -> BTreeSet<String> {
    cu.split("__global__ void ")
        .skip(1)
        .map(|rest| rest.split('(').next().unwrap().trim().to_string())
        .collect()
}

/// Every string literal of a Rust source made only of `[a-z0-9_]`.
fn snake_literals(rs: &str) -> Vec<String> {
    rs.split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_string)
        .collect()
}

/// The names in the module's `funcs: &[...]` list.
fn loaded(rs: &str) -> BTreeSet<String> {
    let list = rs.split("funcs: &[").nth(1).expect("a `funcs: &[` list");
    let list = list.split(']').next().unwrap();
    snake_literals(list).into_iter().collect()
}

/// The module name (`name: "..."`), the one snake_case literal that is not a kernel.
fn module_name(rs: &str) -> String {
    let rest = rs.split("name: \"").nth(1).expect("a module `name`");
    rest.split('"').next().unwrap().to_string()
}

#[test]
fn every_kernel_name_in_the_cuda_code_is_a_kernel_its_module_defines_and_loads() {
    for op in OPS {
        let (rs, cu) = (
            read(&format!("{op}/cuda.rs")),
            read(&format!("{op}/cuda.cu")),
        );
        let defined = defined(&cu);
        assert!(!defined.is_empty(), "{op}/cuda.cu defines no kernel");
        assert_eq!(
            loaded(&rs),
            defined,
            "{op}/cuda.rs loads (`funcs`) other kernels than {op}/cuda.cu defines"
        );
        let module = module_name(&rs);
        for name in snake_literals(&rs).into_iter().filter(|n| *n != module) {
            assert!(
                defined.contains(&name),
                "{op}/cuda.rs names kernel `{name}`, which {op}/cuda.cu does not define"
            );
        }
    }
}

#[test]
fn the_scanner_finds_kernels_and_names() {
    let cu = "extern \"C\" __global__ void a_1(int x) {}\n__global__ void b(float* y) {}";
    assert_eq!(defined(cu), ["a_1", "b"].map(String::from).into());
    let rs = "name: \"m\", funcs: &[\"a_1\", \"b\"], launch(&K, \"a_1\"), expect(\"a message\")";
    assert_eq!(loaded(rs), ["a_1", "b"].map(String::from).into());
    assert_eq!(module_name(rs), "m");
    assert_eq!(snake_literals(rs), ["m", "a_1", "b", "a_1"]);
}
