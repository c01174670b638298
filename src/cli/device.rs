//! `--device cpu|cuda[:N]`: which device a command trains on, parsed and checked before any
//! data is loaded, so that a binary built without CUDA, or a machine without the GPU asked for,
//! fails at once with an error that says why and what to do.

use std::fmt;
use std::str::FromStr;

use anyhow::Result;

/// What `--device` asked for. CPU is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSpec {
    #[default]
    Cpu,
    /// A CUDA GPU by index (`cuda` is `cuda:0`).
    Cuda(usize),
}

impl FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("invalid device `{s}`: expected `cpu`, `cuda` or `cuda:N` (N = GPU index, 0, 1, ...)")
        };
        match s.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            other => match other.strip_prefix("cuda:") {
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    n.parse().map(Self::Cuda).map_err(|_| bad())
                }
                _ => Err(bad()),
            },
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => write!(f, "cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// The error for `--device cuda` from a binary built without CUDA support.
#[cfg(not(feature = "cuda"))]
pub fn not_built_message(spec: DeviceSpec) -> String {
    format!(
        "--device {spec}: this amp binary was built without CUDA support; rebuild with \
         `cargo build --release --features cuda`, see README 'CUDA build'"
    )
}

impl DeviceSpec {
    /// Checks that this binary and this machine can run on the device: always for the CPU;
    /// for a GPU, that the binary has CUDA support, the driver starts, the index names a visible
    /// GPU and dfdx's CUDA device opens on it (released again before returning).
    pub fn check_usable(self) -> Result<()> {
        match self {
            Self::Cpu => Ok(()),
            Self::Cuda(ordinal) => check_cuda(self, ordinal),
        }
    }
}

/// The check `amp train|sweep|demo` run before loading any data; the job then opens the
/// device again with `open_cuda` (seeded from its config) and trains there.
pub fn check_training_device(spec: DeviceSpec) -> Result<()> {
    spec.check_usable()
}

#[cfg(not(feature = "cuda"))]
fn check_cuda(spec: DeviceSpec, _ordinal: usize) -> Result<()> {
    Err(anyhow::anyhow!(not_built_message(spec)))
}

#[cfg(feature = "cuda")]
fn check_cuda(spec: DeviceSpec, ordinal: usize) -> Result<()> {
    open_cuda(spec, ordinal, 0).map(drop)
}

/// Opens dfdx's `Cuda` device on GPU `ordinal`, seeded. cudarc's `CudaDevice::new` panics when
/// the driver cannot start or the index is out of range, so both are checked here first and
/// turned into errors that name the device.
#[cfg(feature = "cuda")]
pub fn open_cuda(spec: DeviceSpec, ordinal: usize, seed: u64) -> Result<dfdx::tensor::Cuda> {
    use anyhow::{anyhow, bail};
    use cudarc::driver::result;

    result::init().map_err(|e| {
        anyhow!(
            "--device {spec}: no usable CUDA GPU: the CUDA driver did not start ({}). \
             Is an NVIDIA driver installed and a GPU visible (nvidia-smi)?",
            driver_error_text(&e)
        )
    })?;
    let count = result::device::get_count().map_err(|e| {
        anyhow!(
            "--device {spec}: counting GPUs failed: {}",
            driver_error_text(&e)
        )
    })?;
    let count = usize::try_from(count).unwrap_or(0);
    if count == 0 {
        bail!("--device {spec}: the CUDA driver started but sees no GPU (CUDA_VISIBLE_DEVICES?)");
    }
    if ordinal >= count {
        bail!(
            "--device {spec}: there is no GPU {ordinal}; {count} visible: {}",
            (0..count)
                .map(|i| format!("cuda:{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let dev = dfdx::tensor::Cuda::try_build(ordinal, seed)
        .map_err(|e| anyhow!("--device {spec}: opening the GPU failed: {e:?}"))?;
    // As `retain_freed_memory` for the CPU in main: keep the step's memory for the next step.
    if let Err(why) = amp_nn::cuda::retain_freed_memory(&dev) {
        eprintln!(
            "amp: --device {spec}: freed GPU memory goes back to the driver at every sync ({why})"
        );
    }
    Ok(dev)
}

/// cudarc's error name and the driver's description of it. Its own `Debug` unwraps the
/// description, which would turn a second driver failure into a panic.
#[cfg(feature = "cuda")]
fn driver_error_text(e: &cudarc::driver::DriverError) -> String {
    match e.error_string() {
        Ok(s) => format!("{:?}: {}", e.0, s.to_string_lossy()),
        Err(_) => format!("{:?}", e.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_cuda_and_an_index() {
        assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("CPU".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:0".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse(), Ok(DeviceSpec::Cuda(3)));
        assert_eq!(DeviceSpec::default(), DeviceSpec::Cpu);
        assert_eq!(DeviceSpec::Cuda(2).to_string(), "cuda:2");
    }

    #[test]
    fn rejects_other_names_and_malformed_indices() {
        for bad in [
            "gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1:2", "cuda0", "", "cuda:+1",
        ] {
            let e = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(
                e.contains(&format!("invalid device `{bad}`")) && e.contains("`cuda:N`"),
                "{bad}: {e}"
            );
        }
        let huge = "cuda:99999999999999999999999".parse::<DeviceSpec>();
        assert!(huge.is_err());
    }

    #[test]
    fn the_cpu_is_always_usable() {
        assert!(DeviceSpec::Cpu.check_usable().is_ok());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_rebuild() {
        let e = DeviceSpec::Cuda(1).check_usable().unwrap_err().to_string();
        assert_eq!(e, not_built_message(DeviceSpec::Cuda(1)));
        assert!(e.starts_with("--device cuda:1: this amp binary was built without CUDA support"));
        assert!(
            e.contains("cargo build --release --features cuda")
                && e.contains("README 'CUDA build'")
        );
    }
}
