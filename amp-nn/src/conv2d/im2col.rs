//! im2col / col2im: the data rearrangement that turns a convolution into GEMMs.
//!
//! For a chunk of `imgs` images the column matrix has one row per
//! `(c, kh, kw)` tap (row `r = (c*K + kh)*K + kw`, matching the PyTorch weight
//! layout `(O, C, K, K)` flattened to `(O, C*K*K)`), and one column per output
//! pixel of every image in the chunk (`j = img*Ho*Wo + oh*Wo + ow`). Rows are
//! contiguous, so GEMM reads them with unit stride, and stride-1 rows are
//! straight `memcpy`s of input rows.

use crate::shape::{conv_out_dim, valid_out_range};
use crate::CpuFloat;

/// Geometry of one convolution (all sizes in elements).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub k: usize,
    pub s: usize,
    pub p: usize,
    pub ho: usize,
    pub wo: usize,
}

impl ConvGeom {
    /// The geometry of an `O`-channel, `K x K` convolution of an `(n, c, h, w)` input.
    pub fn new(
        (n, c, h, w): (usize, usize, usize, usize),
        o: usize,
        k: usize,
        stride: usize,
        padding: usize,
    ) -> Self {
        Self {
            n,
            c,
            h,
            w,
            o,
            k,
            s: stride,
            p: padding,
            ho: conv_out_dim(h, k, stride, padding),
            wo: conv_out_dim(w, k, stride, padding),
        }
    }
    pub fn ckk(&self) -> usize {
        self.c * self.k * self.k
    }
    pub fn out_plane(&self) -> usize {
        self.ho * self.wo
    }
    pub fn in_img(&self) -> usize {
        self.c * self.h * self.w
    }
    pub fn out_img(&self) -> usize {
        self.o * self.ho * self.wo
    }
    /// A 1x1, stride-1, unpadded conv reads the input image directly as its
    /// column matrix, so im2col is skipped.
    pub fn is_pointwise(&self) -> bool {
        self.k == 1 && self.s == 1 && self.p == 0
    }
    /// Images per work item. Small feature maps are batched so each GEMM has
    /// enough columns to amortise packing the weights, but the batch is cut
    /// into at least [`MIN_CHUNKS`] items so several cores stay busy.
    ///
    /// This depends on the shapes only, never on the rayon thread count: the
    /// chunking fixes the GEMM shapes and the summation order of the weight
    /// gradient, so results are bit-identical whatever pool runs them.
    pub fn imgs_per_chunk(&self) -> usize {
        if self.is_pointwise() {
            return 1;
        }
        let target = 1024usize.div_ceil(self.out_plane().max(1));
        let cap = self.n.div_ceil(MIN_CHUNKS).max(1);
        target.clamp(1, cap)
    }

    /// Number of weight-gradient partial sums for `chunks` work items: each
    /// group of consecutive chunks accumulates into its own partial, in chunk
    /// order, and the partials are then added in group order. A function of
    /// the shapes only (see [`Self::imgs_per_chunk`]); a power of two so two
    /// or four cores split the groups evenly, and capped so the partials stay
    /// under [`WGRAD_PARTIAL_BYTES`].
    pub fn wgrad_groups<E>(&self, chunks: usize) -> usize {
        let bytes = self.o * self.ckk() * std::mem::size_of::<E>();
        let by_memory = (WGRAD_PARTIAL_BYTES / bytes.max(1)).max(2);
        let mut groups = MAX_WGRAD_GROUPS.min(by_memory);
        while groups > chunks.max(1) || !groups.is_power_of_two() {
            groups -= 1;
        }
        groups.max(1)
    }
}

/// Minimum number of work items a batch is cut into (when it has enough
/// images): enough to keep a few cores busy with even load.
const MIN_CHUNKS: usize = 8;
/// Most weight-gradient partial sums kept at once.
const MAX_WGRAD_GROUPS: usize = 8;
/// Memory budget for weight-gradient partial sums (ResNet-18's largest conv
/// weight, 512x512x3x3 f32, is 9.4 MB, which gets 4 groups).
const WGRAD_PARTIAL_BYTES: usize = 40 << 20;

/// Fills `col` (`ckk x imgs*Ho*Wo`, row-major) from `x` (`imgs` images).
pub(crate) fn im2col<E: CpuFloat>(g: &ConvGeom, x: &[E], imgs: usize, col: &mut [E]) {
    let plane_out = g.out_plane();
    let ncol = imgs * plane_out;
    debug_assert_eq!(col.len(), g.ckk() * ncol);
    for c in 0..g.c {
        for kh in 0..g.k {
            let (oh_lo, oh_hi) = valid_out_range(g.ho, g.h, kh, g.s, g.p);
            for kw in 0..g.k {
                let (ow_lo, ow_hi) = valid_out_range(g.wo, g.w, kw, g.s, g.p);
                let r = (c * g.k + kh) * g.k + kw;
                let row = &mut col[r * ncol..(r + 1) * ncol];
                for img in 0..imgs {
                    let plane = &x[(img * g.c + c) * g.h * g.w..][..g.h * g.w];
                    let dst_img = &mut row[img * plane_out..(img + 1) * plane_out];
                    dst_img[..oh_lo * g.wo].fill(E::zero());
                    dst_img[oh_hi * g.wo..].fill(E::zero());
                    for oh in oh_lo..oh_hi {
                        let ih = oh * g.s + kh - g.p;
                        let src = &plane[ih * g.w..(ih + 1) * g.w];
                        let dst = &mut dst_img[oh * g.wo..(oh + 1) * g.wo];
                        dst[..ow_lo].fill(E::zero());
                        dst[ow_hi..].fill(E::zero());
                        if g.s == 1 {
                            let off = ow_lo + kw - g.p;
                            dst[ow_lo..ow_hi].copy_from_slice(&src[off..off + (ow_hi - ow_lo)]);
                        } else {
                            for (ow, d) in dst.iter_mut().enumerate().take(ow_hi).skip(ow_lo) {
                                *d = src[ow * g.s + kw - g.p];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Accumulates `col` (same layout as [`im2col`]) back into image gradients
/// `gx` (`imgs` images): the adjoint of [`im2col`].
pub(crate) fn col2im_add<E: CpuFloat>(g: &ConvGeom, col: &[E], imgs: usize, gx: &mut [E]) {
    let plane_out = g.out_plane();
    let ncol = imgs * plane_out;
    debug_assert_eq!(col.len(), g.ckk() * ncol);
    for img in 0..imgs {
        for c in 0..g.c {
            let plane = &mut gx[(img * g.c + c) * g.h * g.w..][..g.h * g.w];
            for kh in 0..g.k {
                let (oh_lo, oh_hi) = valid_out_range(g.ho, g.h, kh, g.s, g.p);
                for kw in 0..g.k {
                    let (ow_lo, ow_hi) = valid_out_range(g.wo, g.w, kw, g.s, g.p);
                    let r = (c * g.k + kh) * g.k + kw;
                    let src_img = &col[r * ncol + img * plane_out..][..plane_out];
                    for oh in oh_lo..oh_hi {
                        let ih = oh * g.s + kh - g.p;
                        let dst = &mut plane[ih * g.w..(ih + 1) * g.w];
                        let src = &src_img[oh * g.wo..(oh + 1) * g.wo];
                        if g.s == 1 {
                            let off = ow_lo + kw - g.p;
                            let n = ow_hi - ow_lo;
                            for (d, s) in dst[off..off + n].iter_mut().zip(&src[ow_lo..ow_hi]) {
                                *d += *s;
                            }
                        } else {
                            for (ow, s) in src.iter().enumerate().take(ow_hi).skip(ow_lo) {
                                dst[ow * g.s + kw - g.p] += *s;
                            }
                        }
                    }
                }
            }
        }
    }
}
