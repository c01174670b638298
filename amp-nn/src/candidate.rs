//! The layers of this crate with parameters are amp candidate layers (`amp_core::Candidate`);
//! pooling and flatten are not, so `#[amplifiable]` asks for `#[amp(skip)]` on them.

use amp_core::Candidate;
use dfdx::prelude::{Dtype, Storage};

use crate::{BatchNorm2D, Conv2D, Conv2DNoBias};

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D> Candidate
    for Conv2D<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: Storage<E>,
{
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D> Candidate
    for Conv2DNoBias<I, O, K, S, P, E, D>
where
    E: Dtype,
    D: Storage<E>,
{
}

impl<const C: usize, E: Dtype, D: Storage<E>> Candidate for BatchNorm2D<C, E, D> {}
