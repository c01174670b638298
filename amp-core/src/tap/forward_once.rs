//! [`forward_once!`](crate::forward_once): a hand-written forward (`forward = manual`) written
//! once, expanded into both `Module` (through `self.taps()`) and `ModuleMut` (through
//! `self.taps_mut()`).
//!
//! Without it a residual block spells the same forward twice, once per trait, and the two
//! copies drift apart. Inside the body, `fwd!(t.field, x)` runs a field of the tap view with
//! `try_forward` in the `Module` impl and `try_forward_mut` in the `ModuleMut` impl.

/// Implements `Module` and `ModuleMut` for a `#[amplifiable(forward = manual)]` block from one
/// forward body.
///
/// ```text
/// amp_core::forward_once! {
///     impl[B: Dim, E: AmpDtype, D: AmpDevice<E>, T: Tape<E, D>] Residual<E, D>,
///     |t, x: Tensor<(B, Const<4>), E, D, T>| -> Result<Tensor<(B, Const<4>), E, D, T>, D::Err>
///     {
///         let h = fwd!(t.fc, x.with_empty_tape())?;   // `t` is the tap view
///         let h = fwd!(t.act, h)?;                     // skipped fields too
///         h.try_add(x)
///     }
/// }
/// ```
///
/// `impl[...]` lists the generic parameters of the impls; an optional `where [...]` before the
/// body adds predicates. Call every candidate layer through `t` (never `self.field`): a layer
/// called around its taps is caught by [`check_taps`](crate::tap::check_taps) on the first
/// step. See `tests/tests/declarations.rs` for a complete block.
#[macro_export]
macro_rules! forward_once {
    (
        impl[$($gen:tt)*] $Block:ty,
        |$t:ident, $x:ident : $In:ty| -> Result<$Out:ty, $Err:ty>
        $(where [$($w:tt)*])?
        $body:block
    ) => {
        impl<$($gen)*> $crate::__private::dfdx::nn::Module<$In> for $Block
        $(where $($w)*)?
        {
            type Output = $Out;
            type Error = $Err;
            fn try_forward(&self, $x: $In) -> ::core::result::Result<$Out, $Err> {
                #[allow(unused_imports)]
                use $crate::__private::dfdx::nn::Module as _;
                #[allow(unused_mut)]
                let mut $t = self.taps();
                #[allow(unused_macros)]
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        $m.try_forward($v)
                    };
                }
                $body
            }
        }

        impl<$($gen)*> $crate::__private::dfdx::nn::ModuleMut<$In> for $Block
        $(where $($w)*)?
        {
            type Output = $Out;
            type Error = $Err;
            fn try_forward_mut(&mut self, $x: $In) -> ::core::result::Result<$Out, $Err> {
                #[allow(unused_imports)]
                use $crate::__private::dfdx::nn::ModuleMut as _;
                #[allow(unused_mut)]
                let mut $t = self.taps_mut();
                #[allow(unused_macros)]
                macro_rules! fwd {
                    ($m:expr, $v:expr) => {
                        $m.try_forward_mut($v)
                    };
                }
                $body
            }
        }
    };
}
