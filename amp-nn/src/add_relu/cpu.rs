//! `Cpu` kernels for `relu(a + b)`: one parallel pass each way, computing exactly what dfdx's
//! add and ReLU compute (`max(a + b, 0)` forward; backward, the ReLU's `1 or 0 times the
//! gradient`, added into its zeroed buffer, then added into both inputs' gradients), so the
//! bits are dfdx's.

use super::op::AddReluKernel;
use crate::cpu_util::{to_buf, CpuFloat};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Elements per parallel chunk.
const CHUNK: usize = 1 << 14;

impl<E: CpuFloat> AddReluKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    /// The output values.
    type Saved = Vec<E>;

    fn add_relu_forward<S: Shape>(
        a: &Tensor<S, E, Cpu>,
        b: &Tensor<S, E, Cpu>,
    ) -> Result<Option<(Tensor<S, E, Cpu>, Vec<E>)>, CpuError> {
        let mut out = to_buf(a);
        let bv = to_buf(b);
        out.par_chunks_mut(CHUNK)
            .zip(bv.par_chunks(CHUNK))
            .for_each(|(o, b)| {
                for (o, b) in o.iter_mut().zip(b) {
                    *o = (*o + *b).max(E::zero());
                }
            });
        let t = a.device().try_tensor_from_vec(out.clone(), *a.shape())?;
        Ok(Some((t, out)))
    }

    fn add_relu_backward(
        n: usize,
        out: &Vec<E>,
        gy: &Vec<E>,
        ga: &mut Vec<E>,
        gb: &mut Vec<E>,
    ) -> Result<(), CpuError> {
        assert!(
            out.len() == n && gy.len() == n && ga.len() == n && gb.len() == n,
            "add_relu: a gradient buffer is missing (were `a` and `b` the same tensor?)"
        );
        ga.par_chunks_mut(CHUNK)
            .zip(gb.par_chunks_mut(CHUNK))
            .zip(out.par_chunks(CHUNK).zip(gy.par_chunks(CHUNK)))
            .for_each(|((ga, gb), (out, gy))| {
                for i in 0..ga.len() {
                    let pass = if out[i] > E::zero() {
                        E::one()
                    } else {
                        E::zero()
                    };
                    let g = E::zero() + pass * gy[i];
                    ga[i] += g;
                    gb[i] += g;
                }
            });
        Ok(())
    }
}
