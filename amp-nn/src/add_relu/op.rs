//! The `relu(a + b)` op: its kernel trait and the tape wiring written once for every device
//! (see `conv2d/op.rs` for the pattern).

use crate::grad_slot::GradSlots;
use dfdx::prelude::*;

/// A device's forward and backward kernels for `relu(a + b)`.
pub(crate) trait AddReluKernel<E: Dtype>: GradSlots<E> {
    /// What the forward pass keeps for the backward pass (where the output is positive,
    /// which says where the gradient passes).
    type Saved: 'static;

    /// `relu(a + b)` (both contiguous, of equal shapes) as a fresh tensor; `Ok(None)`: run the
    /// device-generic path. `record`: whether a backward pass will follow (if not, nothing
    /// need be saved).
    fn add_relu_forward<S: Shape>(
        a: &Tensor<S, E, Self>,
        b: &Tensor<S, E, Self>,
        record: bool,
    ) -> Result<Option<(Tensor<S, E, Self>, Self::Saved)>, Self::Err>;

    /// Adds the output gradient `gy`, where the output is positive, into both `ga` and `gb`
    /// (each `n` elements).
    fn add_relu_backward(
        n: usize,
        saved: &Self::Saved,
        gy: &Self::Grad,
        ga: &mut Self::Grad,
        gb: &mut Self::Grad,
    ) -> Result<(), Self::Err>;
}

/// [`crate::NnDevice::add_relu`] on a device with an [`AddReluKernel`].
pub(crate) fn add_relu<S, E, D, T, R>(
    a: Tensor<S, E, D, T>,
    b: Tensor<S, E, D, R>,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E> + AddReluKernel<E>,
    T: Tape<E, D> + Merge<R>,
    R: Tape<E, D>,
{
    assert_eq!(
        a.shape().concrete(),
        b.shape().concrete(),
        "add_relu: the two tensors' shapes differ"
    );
    let (a, ta) = a.try_contiguous()?.split_tape();
    let (b, tb) = b.try_contiguous()?.split_tape();
    let Some((out, saved)) = D::add_relu_forward(&a, &b, T::OWNS_TAPE)? else {
        if D::KERNELS_MAY_DECLINE {
            return crate::generic::add_relu(a.put_tape(ta), b.put_tape(tb));
        }
        crate::grad_slot::declined::<D>("add_relu")
    };
    let mut tape = ta.merge(tb);
    if T::OWNS_TAPE {
        let n = a.shape().num_elements();
        let (a_g, b_g, o_g) = (a.ghost(), b.ghost(), out.ghost());
        let dev = out.device().clone();
        drop((a, b));
        tape.add_backward_op(move |grads| {
            let gy = D::take_grad(grads.get_or_alloc_mut(&o_g)?);
            let mut ga = D::take_grad(grads.get_or_alloc_mut(&a_g)?);
            let mut gb = D::take_grad(grads.get_or_alloc_mut(&b_g)?);
            let done = D::add_relu_backward(n, &saved, &gy, &mut ga, &mut gb);
            D::done_with_output_grad(&dev, grads.get_or_alloc_mut(&o_g)?, gy)?;
            D::put_grad(grads.get_or_alloc_mut(&a_g)?, ga);
            D::put_grad(grads.get_or_alloc_mut(&b_g)?, gb);
            done
        });
    }
    Ok(out.put_tape(tape))
}
