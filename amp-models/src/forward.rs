//! Hand-written forwards, written once: `block_forward!` turns one body into `Module`
//! (inference, running BN statistics) and `ModuleMut` (training), where `fwd!(t.field, x)`
//! runs a field and `bn_relu!(t.bn, x)` a batch norm and its ReLU as one op; `stage!`
//! declares a stage of blocks of any depth as an `#[amplifiable]` struct with PyTorch's block
//! names (`0`, `1`, ...), so that a 23-block stage is one line per block, not a new struct by
//! hand.

use dfdx::prelude::*;

/// Feature maps inside the networks: batch, `C` channels, runtime height and width.
pub type Maps<const C: usize, E, D, T> = Tensor<(usize, Const<C>, usize, usize), E, D, T>;

/// Generates `Module` and `ModuleMut` over [`Maps`] for a `forward = manual` block from one
/// body written against the block's tap view `t`, where `fwd!(t.field, x)` runs a field and
/// `bn_relu!(t.bn, x)` runs a batch-norm field followed by a ReLU in one op
/// ([`amp_nn::BatchNorm2D::try_forward_relu`]).
macro_rules! block_forward {
    ($Block:ident <$(const $c:ident : $ct:ty),*>, $I:ident -> $O:ident, |$t:ident, $x:ident| $body:expr) => {
        impl<$(const $c: $ct,)* E, D, T> ::dfdx::nn::Module<$crate::forward::Maps<$I, E, D, T>>
            for $Block<$($c,)* E, D>
        where
            E: ::amp_core::AmpDtype,
            D: ::amp_core::AmpDevice<E> + ::amp_nn::NnDevice<E>,
            T: ::dfdx::tensor::Tape<E, D>,
        {
            type Output = $crate::forward::Maps<$O, E, D, T>;
            type Error = D::Err;
            fn try_forward(
                &self,
                $x: $crate::forward::Maps<$I, E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                #[allow(unused_mut)]
                let mut $t = self.taps();
                #[allow(unused_macros)]
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        {
                            #[allow(unused_imports)]
                            use ::dfdx::nn::Module as _;
                            $m.try_forward($v)
                        }
                    };
                }
                #[allow(unused_macros)]
                macro_rules! bn_relu {
                    ($m:expr, $v:expr) => {
                        $m.try_forward_relu($v)
                    };
                }
                $body
            }
        }

        impl<$(const $c: $ct,)* E, D, T> ::dfdx::nn::ModuleMut<$crate::forward::Maps<$I, E, D, T>>
            for $Block<$($c,)* E, D>
        where
            E: ::amp_core::AmpDtype,
            D: ::amp_core::AmpDevice<E> + ::amp_nn::NnDevice<E>,
            T: ::dfdx::tensor::Tape<E, D>,
        {
            type Output = $crate::forward::Maps<$O, E, D, T>;
            type Error = D::Err;
            fn try_forward_mut(
                &mut self,
                $x: $crate::forward::Maps<$I, E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                let mut $t = self.taps_mut();
                #[allow(unused_macros)]
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        {
                            #[allow(unused_imports)]
                            use ::dfdx::nn::ModuleMut as _;
                            $m.try_forward_mut($v)
                        }
                    };
                }
                #[allow(unused_macros)]
                macro_rules! bn_relu {
                    ($m:expr, $v:expr) => {
                        $m.try_forward_mut_relu($v)
                    };
                }
                $body
            }
        }
    };
}

/// A stage: a first block `0` (which may change width and resolution), then blocks `1`, `2`,
/// ... of one type, run in order. Each block is a nested `#[amp(block)]`, so the stage's
/// candidates are `0.conv1`, `0.conv2`, `1.conv1`, ... and the parent adds its field name
/// (`layer2.1.conv1`). The forward is written out (not generated sequentially) so that deep
/// stages type-check in linear time.
macro_rules! stage {
    (
        $(#[$attr:meta])*
        $Name:ident <$(const $c:ident : $ct:ty),*> ($I:ident -> $O:ident) {
            first: $First:ty,
            rest: $Rest:ty => [$($f:ident $n:tt),* $(,)?] $(,)?
        }
    ) => {
        $(#[$attr])*
        #[::amp_core::amplifiable(forward = manual, bound = "D: amp_nn::NnDevice<E>")]
        #[derive(Debug, Clone)]
        pub struct $Name<$(const $c: $ct,)* E: Dtype, D: Device<E>> {
            #[amp(block, name = "0")]
            pub b0: $First,
            $(
                #[amp(block, name = $n)]
                pub $f: $Rest,
            )*
        }

        block_forward!($Name<$(const $c: $ct),*>, $I -> $O, |t, x| {
            let x = fwd!(t.b0, x)?;
            $(let x = fwd!(t.$f, x)?;)*
            Ok(x)
        });
    };
}
