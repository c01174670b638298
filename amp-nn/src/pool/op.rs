//! The pooling op: its geometry, its kernel trait, and the tape wiring written once for
//! every device (see `conv2d/op.rs` for the pattern).

use crate::backend::PoolKind;
use crate::grad_slot::GradSlots;
use crate::shape::conv_out_dim;
use dfdx::prelude::*;

/// Geometry of one pooling op over `planes` (image, channel) planes of `h x w`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolGeom {
    pub kind: PoolKind,
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub ho: usize,
    pub wo: usize,
    pub k: usize,
    pub s: usize,
    pub p: usize,
}

impl PoolGeom {
    /// Input rows/cols (as a range) covered by output `(oh, ow)`'s window.
    #[inline]
    pub fn window(&self, oh: usize, ow: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let r0 = (oh * self.s) as isize - self.p as isize;
        let c0 = (ow * self.s) as isize - self.p as isize;
        let clip = |a: isize, n: usize| a.clamp(0, n as isize) as usize;
        (
            clip(r0, self.h)..clip(r0 + self.k as isize, self.h),
            clip(c0, self.w)..clip(c0 + self.k as isize, self.w),
        )
    }
}

/// A device's forward and backward kernels for max and average pooling.
pub(crate) trait Pool2DKernel<E: Dtype>: GradSlots<E> {
    /// What the forward pass keeps for the backward pass (max pooling: where each window's
    /// maximum was; average pooling needs nothing).
    type Saved: 'static;

    /// The pooled `x` (contiguous) as a fresh tensor of shape `out_shape`; `Ok(None)`: run
    /// the device-generic path.
    fn pool2d_forward<S: Shape, So: Shape>(
        g: &PoolGeom,
        x: &Tensor<S, E, Self>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, E, Self>, Self::Saved)>, Self::Err>;

    /// Adds the input gradient into `gx`, given the output gradient `gy`.
    fn pool2d_backward(
        g: &PoolGeom,
        saved: &Self::Saved,
        gy: &Self::Grad,
        gx: &mut Self::Grad,
    ) -> Result<(), Self::Err>;
}

/// [`crate::NnDevice::pool2d`] on a device with [`Pool2DKernel`]s.
pub(crate) fn pool2d<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E> + Pool2DKernel<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    kind: PoolKind,
    kernel: usize,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<C>, usize, usize), E, D, T>, D::Err> {
    assert!(
        2 * padding <= kernel,
        "pool padding {padding} must be at most half the kernel size {kernel}"
    );
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let (b, _, h, w) = *x.shape();
    let g = PoolGeom {
        kind,
        planes: b.size() * C,
        h: h.size(),
        w: w.size(),
        ho: conv_out_dim(h.size(), kernel, stride, padding),
        wo: conv_out_dim(w.size(), kernel, stride, padding),
        k: kernel,
        s: stride,
        p: padding,
    };
    let Some((out, saved)) = D::pool2d_forward(&g, &x, (b, Const::<C>, g.ho, g.wo))? else {
        if D::KERNELS_MAY_DECLINE {
            return crate::generic::pool2d(x.put_tape(tape), kind, kernel, stride, padding);
        }
        crate::grad_slot::declined::<D>("pool2d")
    };
    if T::OWNS_TAPE {
        let (x_g, o_g) = (x.ghost(), out.ghost());
        let dev = out.device().clone();
        drop(x);
        tape.add_backward_op(move |grads| {
            let gy = D::take_grad(grads.get_or_alloc_mut(&o_g)?);
            let mut gx = D::take_grad(grads.get_or_alloc_mut(&x_g)?);
            let done = D::pool2d_backward(&g, &saved, &gy, &mut gx);
            D::done_with_output_grad(&dev, grads.get_or_alloc_mut(&o_g)?, gy)?;
            D::put_grad(grads.get_or_alloc_mut(&x_g)?, gx);
            done
        });
    }
    Ok(out.put_tape(tape))
}
