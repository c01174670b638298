//! `Cpu` kernels for `relu(a + b)`: one parallel pass each way, computing exactly what dfdx's
//! add and ReLU compute (`max(a + b, 0)` forward; backward, the ReLU's `1 or 0 times the
//! gradient`, added into its zeroed buffer, then added into both inputs' gradients), so the
//! bits are dfdx's. Backward needs only where the output is positive: forward keeps that as
//! one bit per element (a thirty-second of a copy of the output), and nothing without a tape.

use super::op::AddReluKernel;
use crate::cpu_util::{relu_grad, to_buf, CpuFloat};
use dfdx::prelude::*;
use rayon::prelude::*;

/// Elements per parallel chunk (a multiple of 64, so each chunk owns whole mask words).
const CHUNK: usize = 1 << 14;

/// Bit `j` of word `w`: whether output `64 * w + j` is positive.
type Mask = Vec<u64>;

/// `o = max(o + b, 0)`, element by element.
fn add_relu_in_place<E: CpuFloat>(o: &mut [E], b: &[E]) {
    for (o, b) in o.iter_mut().zip(b) {
        *o = (*o + *b).max(E::zero());
    }
}

/// The mask words of one chunk of outputs.
fn pack_positive<E: CpuFloat>(out: &[E], words: &mut [u64]) {
    for (w, o) in words.iter_mut().zip(out.chunks(64)) {
        *w = (o.iter().enumerate()).fold(0, |w, (j, v)| w | (u64::from(*v > E::zero()) << j));
    }
}

impl<E: CpuFloat> AddReluKernel<E> for Cpu
where
    Cpu: Device<E>,
{
    type Saved = Mask;

    fn add_relu_forward<S: Shape>(
        a: &Tensor<S, E, Cpu>,
        b: &Tensor<S, E, Cpu>,
        record: bool,
    ) -> Result<Option<(Tensor<S, E, Cpu>, Mask)>, CpuError> {
        let mut out = to_buf(a);
        let bv = to_buf(b);
        let mut mask = vec![0u64; if record { out.len().div_ceil(64) } else { 0 }];
        let chunks = out.par_chunks_mut(CHUNK).zip(bv.par_chunks(CHUNK));
        if record {
            chunks
                .zip(mask.par_chunks_mut(CHUNK / 64))
                .for_each(|((o, b), m)| {
                    add_relu_in_place(o, b);
                    pack_positive(o, m);
                });
        } else {
            chunks.for_each(|(o, b)| add_relu_in_place(o, b));
        }
        let t = a.device().try_tensor_from_vec(out, *a.shape())?;
        Ok(Some((t, mask)))
    }

    fn add_relu_backward(
        n: usize,
        mask: &Mask,
        gy: &Vec<E>,
        ga: &mut Vec<E>,
        gb: &mut Vec<E>,
    ) -> Result<(), CpuError> {
        assert!(
            mask.len() == n.div_ceil(64) && gy.len() == n && ga.len() == n && gb.len() == n,
            "add_relu: a gradient buffer is missing (were `a` and `b` the same tensor?)"
        );
        ga.par_chunks_mut(CHUNK)
            .zip(gb.par_chunks_mut(CHUNK))
            .zip(mask.par_chunks(CHUNK / 64).zip(gy.par_chunks(CHUNK)))
            .for_each(|((ga, gb), (m, gy))| {
                for i in 0..ga.len() {
                    let g = relu_grad((m[i / 64] >> (i % 64)) & 1 == 1, gy[i]);
                    ga[i] += g;
                    gb[i] += g;
                }
            });
        Ok(())
    }
}
