//! The convolution op: its kernel trait, and the tape wiring written once for every device.
//!
//! A device with fast kernels implements [`Conv2DKernel`] (`cpu.rs`, `cuda.rs`); [`conv2d`]
//! does the rest: layout, geometry, the fallback to the device-generic path, and recording
//! the backward pass on the tape.
//!
//! The ghosts of the op's tensors never leave this function: dfdx keeps the bound they
//! satisfy (`Tensorlike`) private, so no trait method could take one. The kernels get
//! gradient handles instead ([`GradSlots`]), which this function takes out of dfdx's slots
//! and puts back.

use super::im2col::ConvGeom;
use crate::grad_slot::GradSlots;
use dfdx::prelude::*;

/// A device's forward and backward kernels for 2D convolution.
pub(crate) trait Conv2DKernel<E: Dtype>: GradSlots<E> {
    /// What the forward pass keeps for the backward pass (the input and weight values, or a
    /// handle that keeps their device buffers alive).
    type Saved: 'static;

    /// `out = conv(x, w) + b`, a fresh tensor of shape `out_shape` (NCHW, sizes in `g`).
    /// `x` is contiguous. `Ok(None)`: this device cannot run its kernels here; the op then
    /// runs the device-generic path.
    fn conv2d_forward<S: Shape, Sw: Shape, Sb: Shape, So: Shape>(
        g: &ConvGeom,
        x: &Tensor<S, E, Self>,
        w: &Tensor<Sw, E, Self>,
        b: Option<&Tensor<Sb, E, Self>>,
        out_shape: So,
    ) -> Result<Option<(Tensor<So, E, Self>, Self::Saved)>, Self::Err>;

    /// Adds the input, weight and (when present) bias gradients into `gx`, `gw` (`O x CKK`)
    /// and `gb`, given the output gradient `gout`.
    fn conv2d_backward(
        g: &ConvGeom,
        saved: &Self::Saved,
        gout: &Self::Grad,
        gx: &mut Self::Grad,
        gw: &mut Self::Grad,
        gb: Option<&mut Self::Grad>,
    ) -> Result<(), Self::Err>;
}

/// [`crate::NnDevice::conv2d`] on a device with [`Conv2DKernel`]s.
pub(crate) fn conv2d<
    B: Dim,
    const C: usize,
    H: Dim,
    W: Dim,
    const O: usize,
    const K: usize,
    E: Dtype,
    D: Device<E> + Conv2DKernel<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<C>, H, W), E, D, T>,
    weight: &Tensor<Rank4<O, C, K, K>, E, D>,
    bias: Option<&Tensor<Rank1<O>, E, D>>,
    stride: usize,
    padding: usize,
) -> Result<Tensor<(B, Const<O>, usize, usize), E, D, T>, D::Err> {
    // Free when already contiguous; otherwise dfdx copies and records the copy's backward,
    // so the kernels always see the logical NCHW layout.
    let (x, mut tape) = x.try_contiguous()?.split_tape();
    let (b, _, h, w) = *x.shape();
    let g = ConvGeom::new((b.size(), C, h.size(), w.size()), O, K, stride, padding);
    let out_shape = (b, Const::<O>, g.ho, g.wo);
    let Some((out, saved)) = D::conv2d_forward(&g, &x, weight, bias, out_shape)? else {
        if D::KERNELS_MAY_DECLINE {
            return crate::generic::conv2d(x.put_tape(tape), weight, bias, stride, padding);
        }
        crate::grad_slot::declined::<D>("conv2d")
    };
    if T::OWNS_TAPE {
        let (x_g, w_g, o_g) = (x.ghost(), weight.ghost(), out.ghost());
        let dev = out.device().clone();
        let b_g = bias.map(|b| b.ghost());
        // The kernels keep what they need in `saved`; x's own handle can go.
        drop(x);
        tape.add_backward_op(move |grads| {
            let gout = D::take_grad(grads.get_or_alloc_mut(&o_g)?);
            let mut gx = D::take_grad(grads.get_or_alloc_mut(&x_g)?);
            let mut gw = D::take_grad(grads.get_or_alloc_mut(&w_g)?);
            let mut gb = match &b_g {
                Some(b_g) => Some(D::take_grad(grads.get_or_alloc_mut(b_g)?)),
                None => None,
            };
            let done = D::conv2d_backward(&g, &saved, &gout, &mut gx, &mut gw, gb.as_mut());
            D::done_with_output_grad(&dev, grads.get_or_alloc_mut(&o_g)?, gout)?;
            D::put_grad(grads.get_or_alloc_mut(&x_g)?, gx);
            D::put_grad(grads.get_or_alloc_mut(&w_g)?, gw);
            if let (Some(b_g), Some(gb)) = (&b_g, gb) {
                D::put_grad(grads.get_or_alloc_mut(b_g)?, gb);
            }
            done
        });
    }
    Ok(out.put_tape(tape))
}
