//! Where a `Cuda` tensor's data lives on the GPU, read from its derived `Debug` output.
//!
//! dfdx 0.13 keeps `Tensor::data` pub(crate), so no public API hands out the device pointer
//! that amp-nn's kernels and cuBLAS calls need. Its `Debug` output does: `Tensor` derives
//! `Debug`, and so do dfdx's `CachableCudaSlice` and cudarc 0.9.15's `CudaSlice` and
//! `CudaDevice`, whose private fields come out as
//!
//! ```text
//! Tensor { id: UniqueId(7), data: CachableCudaSlice { data: CudaSlice { cu_device_ptr: 139..,
//!     len: 1024, device: CudaDevice { cu_device: 0, cu_primary_ctx: 0x5.., stream: 0x0, ...
//! ```
//!
//! [`Locator`] is a `fmt::Write` that parses this text as it is written and stops the
//! formatting (by returning `fmt::Error`) as soon as it has the pointer, the length and the
//! context, so reading a location costs a few hundred bytes of formatting, about a microsecond.
//!
//! This depends on private field names of pinned crate versions (dfdx =0.13.0, cudarc
//! =0.9.15). Anything unexpected parses to `None`, never to a wrong number; and before the
//! first kernel runs on a device, `super::context` checks the whole scheme against a tensor of
//! known values (a self-test): if it fails, amp-nn falls back to its device-generic path.
//!
//! Why reading through the pointer is safe against dfdx's copy-on-write: dfdx mutates a
//! tensor's buffer in place only when it holds the only reference to it (`Arc::make_mut`).
//! amp-nn reads inputs only while it holds a clone of the tensor (so a writer would copy
//! first), and writes only into tensors it has just created itself (refcount one), or into
//! gradient slots, which dfdx hands out mutably.

use std::fmt::{self, Write};

/// A tensor's buffer on the GPU: device pointer, length in elements, and the CUDA context of
/// the `CudaDevice` that owns it (cudarc 0.9.15 runs all work of a device on the context's
/// default stream, so the primary context identifies the GPU and the stream together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// `CUdeviceptr` of the first element.
    pub ptr: u64,
    /// Elements in the buffer (dfdx tensors have no offset: the data starts at `ptr`).
    pub len: usize,
    /// The device's primary `CUcontext`, as an address.
    pub context: u64,
}

/// The literal prefix the text must start with; anything else is not a `Cuda` tensor of the
/// pinned dfdx/cudarc versions.
const HEAD: &str = "Tensor { id: UniqueId(";
const PTR: &str = "data: CachableCudaSlice { data: CudaSlice { cu_device_ptr: ";
const LEN: &str = ", len: ";
const DEVICE: &str = ", device: CudaDevice { cu_device: ";
const CONTEXT: &str = ", cu_primary_ctx: 0x";

/// Parses a location out of `Debug` text (complete or cut short after the context).
pub fn parse(text: &str) -> Option<Location> {
    let rest = text.strip_prefix(HEAD)?;
    let (_id, rest) = digits(rest)?;
    let rest = rest.strip_prefix("), ")?.strip_prefix(PTR)?;
    let (ptr, rest) = digits(rest)?;
    let rest = rest.strip_prefix(LEN)?;
    let (len, rest) = digits(rest)?;
    let rest = rest.strip_prefix(DEVICE)?;
    let (_dev, rest) = digits(rest)?;
    let rest = rest.strip_prefix(CONTEXT)?;
    let hex_len = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    if hex_len == 0 || !rest[hex_len..].starts_with(',') {
        return None;
    }
    let context = u64::from_str_radix(&rest[..hex_len], 16).ok()?;
    if ptr == 0 || context == 0 {
        return None;
    }
    Some(Location {
        ptr,
        len: usize::try_from(len).ok()?,
        context,
    })
}

/// A run of ASCII digits followed by something else; `None` at the end of the text (the
/// number may not be complete yet).
fn digits(s: &str) -> Option<(u64, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n == s.len() {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// A `fmt::Write` that keeps what is written until it can parse a [`Location`], then stops
/// the formatting. Gives up after `LIMIT` bytes.
#[derive(Default)]
pub struct Locator {
    text: String,
    found: Option<Location>,
}

impl Locator {
    /// Text beyond this length means the layout is not the expected one.
    const LIMIT: usize = 4096;

    /// The location in `value`'s `Debug` output, if it has the expected layout.
    pub fn locate(value: &impl fmt::Debug) -> Option<Location> {
        let mut loc = Locator::default();
        // The error is how the locator stops the formatting early: not a failure.
        let _ = write!(loc, "{value:?}");
        loc.found.or_else(|| parse(&loc.text))
    }
}

impl Write for Locator {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.found.is_some() || self.text.len() > Self::LIMIT {
            return Err(fmt::Error);
        }
        self.text.push_str(s);
        // Only worth parsing once the context's value may be complete.
        if self.text.contains(CONTEXT) {
            if let Some(loc) = parse(&self.text) {
                self.found = Some(loc);
                return Err(fmt::Error);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Mirrors of the derived `Debug` layout of dfdx 0.13's `Tensor<_, _, Cuda>` (field names
    // and order), with cudarc's private fields, so the parser is checked without a GPU. Their
    // fields are read only through `Debug`.
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Tensor {
        id: UniqueId,
        data: CachableCudaSlice,
        shape: (usize,),
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct UniqueId(u64);
    #[derive(Debug)]
    #[allow(dead_code)]
    struct CachableCudaSlice {
        data: CudaSlice,
        cache: Vec<u64>,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct CudaSlice {
        cu_device_ptr: u64,
        len: usize,
        device: CudaDevice,
        host_buf: Option<Vec<f32>>,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct CudaDevice {
        cu_device: i32,
        cu_primary_ctx: *mut u8,
        stream: *mut u8,
        modules: Vec<String>,
    }

    fn tensor(ptr: u64, len: usize, context: usize) -> Tensor {
        Tensor {
            id: UniqueId(42),
            data: CachableCudaSlice {
                data: CudaSlice {
                    cu_device_ptr: ptr,
                    len,
                    device: CudaDevice {
                        cu_device: 0,
                        cu_primary_ctx: context as *mut u8,
                        stream: std::ptr::null_mut(),
                        modules: vec!["x".repeat(10_000)],
                    },
                    host_buf: None,
                },
                cache: vec![1, 2, 3],
            },
            shape: (len,),
        }
    }

    #[test]
    fn reads_pointer_length_and_context() {
        let t = tensor(139_872_011_223_040, 1024, 0x5612_abcd_0010);
        let loc = Locator::locate(&t).expect("the mirrored layout parses");
        assert_eq!(
            loc,
            Location {
                ptr: 139_872_011_223_040,
                len: 1024,
                context: 0x5612_abcd_0010
            }
        );
    }

    #[test]
    fn stops_formatting_early() {
        // The locator never holds the 10 kB module list.
        let t = tensor(1, 1, 1);
        let mut loc = Locator::default();
        assert!(write!(loc, "{t:?}").is_err());
        assert!(loc.text.len() < 400, "{} bytes kept", loc.text.len());
        assert!(loc.found.is_some());
    }

    #[test]
    fn other_layouts_do_not_parse() {
        // A Cpu tensor's data is a Vec.
        assert_eq!(
            parse("Tensor { id: UniqueId(3), data: [1.0, 2.0], shape: (2,) }"),
            None
        );
        // A null pointer, a renamed field, a cut-off context, a missing length.
        let good = format!("{:?}", tensor(77, 5, 0xabc));
        assert!(parse(&good).is_some());
        assert_eq!(
            parse(&good.replace("cu_device_ptr: 77", "cu_device_ptr: 0")),
            None
        );
        assert_eq!(parse(&good.replace("cu_device_ptr", "device_ptr")), None);
        assert_eq!(parse(&good.replace(", len: 5", "")), None);
        let cut = &good[..good.find("cu_primary_ctx: 0x").unwrap() + "cu_primary_ctx: 0xab".len()];
        assert_eq!(parse(cut), None, "a context address still being written");
        assert_eq!(Locator::locate(&"not a tensor"), None);
    }
}
