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
        "tests/kernels_on_cpu/races.cpp",
        "tests/kernels_on_cpu/races.h",
        "tests/kernels_on_cpu/cuda.h",
        "tests/kernels_on_cpu/kernels.cpp",
        "amp-nn/src/conv2d/cuda.cu",
        "amp-nn/src/pool/cuda.cu",
        "amp-nn/src/batchnorm2d/cuda.cu",
        "amp-core/src/backend/cuda.cu",
        "tests/kernels_on_cpu/faulty.cu",
    ] {
        println!("cargo:rerun-if-changed={}", repo.join(f).display());
    }
    let build = || {
        let mut b = cc::Build::new();
        b.cpp(true)
            .include(&repo)
            .include(&out)
            .flag_if_supported("-std=c++17")
            .flag_if_supported("-Wno-unused-parameter")
            .flag_if_supported("-Wno-sign-compare");
        b
    };
    // The kernels, with every load and store reported to races.cpp (GCC's ThreadSanitizer
    // instrumentation, whose calls races.cpp defines: the TSan run time is not linked).
    let kernels = build()
        .file(repo.join("tests/kernels_on_cpu/kernels.cpp"))
        .flag("-fsanitize=thread")
        .flag("--param=tsan-instrument-func-entry-exit=0")
        .compile_intermediates();
    shared_names(&kernels, &out.join("shared_names.inc"));
    let mut sim = build();
    sim.file(repo.join("tests/kernels_on_cpu/shim.cpp"))
        .file(repo.join("tests/kernels_on_cpu/races.cpp"))
        // shim.cpp's fibers _longjmp between stacks, which glibc's fortified longjmp refuses.
        .flag("-U_FORTIFY_SOURCE")
        // Linked by the one test that uses it (`#[link]` there), not into every test.
        .cargo_metadata(false);
    for object in kernels {
        sim.object(object);
    }
    sim.compile("amp_kernels_on_cpu");
    println!("cargo:rustc-link-search=native={}", out.display());
}

/// Writes the `__shared__` variables of the kernel objects, as races.cpp's table of
/// `{offset, size, "name"}` in the `amp_shared` section, so that a race names the variable.
/// The section comes from kernels.cpp alone, so its offsets are the linked program's too.
fn shared_names(objects: &[PathBuf], to: &std::path::Path) {
    let mut table = String::new();
    for object in objects {
        let nm = std::process::Command::new("nm")
            .args(["--demangle", "--format=sysv", "--defined-only"])
            .arg(object)
            .output()
            .expect("running nm (binutils), which names the kernels' __shared__ variables");
        assert!(nm.status.success(), "nm {}: {:?}", object.display(), nm);
        for line in String::from_utf8_lossy(&nm.stdout).lines() {
            let f: Vec<&str> = line.split('|').map(str::trim).collect();
            if f.len() == 7 && f[6] == "amp_shared" {
                let hex = |v: &str| u64::from_str_radix(v, 16).expect("nm prints hex");
                // `backward(BnArgs const&, double, double, bool)::sh` -> `backward::sh`.
                let name = match (f[0].find('('), f[0].rfind(')')) {
                    (Some(open), Some(close)) => format!("{}{}", &f[0][..open], &f[0][close + 1..]),
                    _ => f[0].to_string(),
                };
                let name = name.replace('\\', "\\\\").replace('"', "\\\"");
                table += &format!("{{{}, {}, \"{name}\"}},\n", hex(f[1]), hex(f[4]));
            }
        }
    }
    std::fs::write(to, table).unwrap();
}
