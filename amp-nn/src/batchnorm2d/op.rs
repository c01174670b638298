//! The batch-norm op: its geometry, its kernel trait, and the tape wiring written once for
//! every device (see `conv2d/op.rs` for the pattern). Training and evaluation mode share the
//! backward wiring; what differs is in the kernels' saved state.
//!
//! The op can end in a ReLU (`relu(bn(x))`, how most networks use batch norm). Kernels that
//! fuse it write the activation directly and, backward, pass the gradient where the
//! pre-activation `x * a + b` (recomputed from the saved input, bit for bit as forward) is
//! positive: no pre-activation tensor (nor its gradient) is kept, and forward makes no
//! separate ReLU pass. For devices whose kernels do not, the wiring runs dfdx's ReLU after
//! them.

use crate::grad_slot::GradSlots;
use dfdx::prelude::*;

/// One batch norm over `n` images of `c` channels with `hw` pixels each.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BnGeom {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Weight of the batch statistic in the running averages (training mode only).
    pub momentum: f64,
    /// The kernels apply a ReLU to the output (only set for kernels that fuse it).
    pub relu: bool,
}

impl BnGeom {
    fn of<B: Dim, const C: usize, H: Dim, W: Dim>(
        s: &(B, Const<C>, H, W),
        epsilon: f64,
        momentum: f64,
        relu: bool,
    ) -> Self {
        Self {
            n: s.0.size(),
            c: C,
            hw: s.2.size() * s.3.size(),
            epsilon,
            momentum,
            relu,
        }
    }

    /// Values per channel.
    pub fn count(&self) -> usize {
        self.n * self.hw
    }
}

/// A device's forward kernels for batch norm in both modes, and the backward kernel they
/// share.
pub(crate) trait BatchNorm2DKernel<E: Dtype>: GradSlots<E> {
    /// What the forward pass keeps for the backward pass (the input, scale and the
    /// statistics it normalised with, and which mode it ran in).
    type Saved: 'static;

    /// Whether the kernels apply the ReLU of [`BnGeom::relu`] (forward: `max(y, 0)`;
    /// backward: the output gradient only where the pre-activation is positive, with dfdx's
    /// arithmetic `0 + (1 or 0) * gy`). If not, the wiring runs dfdx's ReLU after them.
    const FUSES_RELU: bool;

    /// Training mode on a contiguous `x`: normalises with the batch statistics and replaces
    /// the running statistics by their updated values. `Ok(None)`: run the generic path.
    fn bn_train_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, E, Self>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running_mean: &mut Tensor<Rank1<C>, E, Self>,
        running_var: &mut Tensor<Rank1<C>, E, Self>,
    ) -> Result<Option<(Tensor<S, E, Self>, Self::Saved)>, Self::Err>;

    /// Evaluation mode on a contiguous `x`, with the running statistics. `record`: whether a
    /// backward pass will follow (if not, the kernels need not save the input).
    fn bn_eval_forward<S: Shape, const C: usize>(
        g: &BnGeom,
        x: &Tensor<S, E, Self>,
        scale: &Tensor<Rank1<C>, E, Self>,
        bias: &Tensor<Rank1<C>, E, Self>,
        running_mean: &Tensor<Rank1<C>, E, Self>,
        running_var: &Tensor<Rank1<C>, E, Self>,
        record: bool,
    ) -> Result<Option<(Tensor<S, E, Self>, Self::Saved)>, Self::Err>;

    /// Adds the gradients of `x`, `scale` and `bias` into `gx`, `gscale`, `gbias`, given the
    /// output gradient `gy`, for either mode (with [`BnGeom::relu`], `gy` is the gradient of
    /// the ReLU's output).
    fn bn_backward(
        g: &BnGeom,
        saved: &Self::Saved,
        gy: &Self::Grad,
        gx: &mut Self::Grad,
        gscale: &mut Self::Grad,
        gbias: &mut Self::Grad,
    ) -> Result<(), Self::Err>;
}

type Img<B, const C: usize, H, W, E, D, T> = Tensor<(B, Const<C>, H, W), E, D, T>;

/// [`crate::NnDevice::batchnorm2d_train`] on a device with [`BatchNorm2DKernel`]s.
#[allow(clippy::too_many_arguments)]
pub(crate) fn train<B, const C: usize, H, W, E, D, T>(
    x: Img<B, C, H, W, E, D, T>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    running_mean: &mut Tensor<Rank1<C>, E, D>,
    running_var: &mut Tensor<Rank1<C>, E, D>,
    epsilon: f64,
    momentum: f64,
    relu: bool,
) -> Result<Img<B, C, H, W, E, D, T>, D::Err>
where
    B: Dim,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E> + BatchNorm2DKernel<E>,
    T: Tape<E, D>,
{
    let (x, tape) = x.try_contiguous()?.split_tape();
    let g = BnGeom::of(x.shape(), epsilon, momentum, relu && D::FUSES_RELU);
    assert!(
        g.count() > 1,
        "batch norm needs more than one value per channel"
    );
    let Some((out, saved)) = D::bn_train_forward(&g, &x, scale, bias, running_mean, running_var)?
    else {
        if D::KERNELS_MAY_DECLINE {
            let (rm, rv) = (running_mean, running_var);
            let x = x.put_tape(tape);
            let y = crate::generic::batchnorm2d_train(x, scale, bias, rm, rv, epsilon, momentum)?;
            return then_relu(y, relu);
        }
        crate::grad_slot::declined::<D>("batch norm")
    };
    let y = record_backward(g, x, scale, bias, out, saved, tape);
    then_relu(y, relu && !g.relu)
}

/// [`crate::NnDevice::batchnorm2d_eval`] on a device with [`BatchNorm2DKernel`]s.
pub(crate) fn eval<B, const C: usize, H, W, E, D, T>(
    x: Img<B, C, H, W, E, D, T>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    running_mean: &Tensor<Rank1<C>, E, D>,
    running_var: &Tensor<Rank1<C>, E, D>,
    epsilon: f64,
    relu: bool,
) -> Result<Img<B, C, H, W, E, D, T>, D::Err>
where
    B: Dim,
    H: Dim,
    W: Dim,
    E: Dtype,
    D: Device<E> + BatchNorm2DKernel<E>,
    T: Tape<E, D>,
{
    let (x, tape) = x.try_contiguous()?.split_tape();
    let g = BnGeom::of(x.shape(), epsilon, 0.0, relu && D::FUSES_RELU);
    let Some((out, saved)) =
        D::bn_eval_forward(&g, &x, scale, bias, running_mean, running_var, T::OWNS_TAPE)?
    else {
        if D::KERNELS_MAY_DECLINE {
            let (rm, rv) = (running_mean, running_var);
            let x = x.put_tape(tape);
            let y = crate::generic::batchnorm2d_eval(x, scale, bias, rm, rv, epsilon)?;
            return then_relu(y, relu);
        }
        crate::grad_slot::declined::<D>("batch norm")
    };
    let y = record_backward(g, x, scale, bias, out, saved, tape);
    then_relu(y, relu && !g.relu)
}

/// dfdx's ReLU after batch norm, where the op asks for one that no kernel applied.
pub(crate) fn then_relu<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    y: Tensor<S, E, D, T>,
    relu: bool,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    if relu {
        y.try_relu()
    } else {
        Ok(y)
    }
}

/// Records the backward pass of either mode on `tape` (when it records) and attaches it to
/// `out`.
fn record_backward<S: Shape, const C: usize, E: Dtype, D, T>(
    g: BnGeom,
    x: Tensor<S, E, D>,
    scale: &Tensor<Rank1<C>, E, D>,
    bias: &Tensor<Rank1<C>, E, D>,
    out: Tensor<S, E, D>,
    saved: D::Saved,
    mut tape: T,
) -> Tensor<S, E, D, T>
where
    D: Device<E> + BatchNorm2DKernel<E>,
    T: Tape<E, D>,
{
    if T::OWNS_TAPE {
        let (x_g, s_g, b_g, o_g) = (x.ghost(), scale.ghost(), bias.ghost(), out.ghost());
        let dev = out.device().clone();
        drop(x);
        tape.add_backward_op(move |grads| {
            let gy = D::take_grad(grads.get_or_alloc_mut(&o_g)?);
            let mut gx = D::take_grad(grads.get_or_alloc_mut(&x_g)?);
            let mut gs = D::take_grad(grads.get_or_alloc_mut(&s_g)?);
            let mut gb = D::take_grad(grads.get_or_alloc_mut(&b_g)?);
            let done = D::bn_backward(&g, &saved, &gy, &mut gx, &mut gs, &mut gb);
            D::done_with_output_grad(&dev, grads.get_or_alloc_mut(&o_g)?, gy)?;
            D::put_grad(grads.get_or_alloc_mut(&x_g)?, gx);
            D::put_grad(grads.get_or_alloc_mut(&s_g)?, gs);
            D::put_grad(grads.get_or_alloc_mut(&b_g)?, gb);
            done
        });
    }
    out.put_tape(tape)
}
