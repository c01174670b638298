//! `#[amplifiable]`: turns a struct of dfdx layers into an amplifiable network.
//!
//! ```text
//! #[amplifiable]
//! pub struct Mlp<E: Dtype, D: Device<E>> {
//!     fc1: Linear<784, 128, E, D>,
//!     #[amp(skip)]
//!     act1: ReLU,
//!     fc2: Linear<128, 10, E, D>,
//! }
//! ```
//!
//! Every field is a candidate layer unless marked `#[amp(skip)]`; `#[amp(block)]` marks a
//! nested `#[amplifiable]` struct whose layers join this one's under a dotted prefix, and
//! `#[amp(name = "0")]` renames a layer or block in the registry. A candidate must implement
//! `amp_core::Candidate` (a module with parameters): a parameterless module (`ReLU`) or a
//! nested block left without `#[amp(block)]` is a compile error at the field. A plain number
//! field (`temperature: f32`) is accepted with `#[amp(skip)]` (`#[amp(skip, default = 1.0)]`
//! sets its value when the model is built; dfdx 0.13 also resets it to that default on device
//! and dtype moves). Options of `#[amplifiable(...)]`: `forward = sequential | manual`,
//! `dtype = E`, `device = D`, `bound = "..."` and `crate = "path::to::amp_core"` (for crates
//! that re-export amp-core). Each option may appear once; raw identifiers (`r#type`) name the
//! layer `type` and its id `TYPE`. The attribute generates:
//! - dfdx's `TensorCollection` (so `BuildModule`, optimizers, `alloc_grads`, device moves work)
//!   and `BuildOnDevice`;
//! - the layer registry: `amp_core::Amplifiable` (count, names, kinds), `amp_core::LayerParams`
//!   (each layer's parameters), a typed `LayerId` constant per layer (`Mlp::FC1`) and a
//!   `BlockId` constant per nested block (`Net::RES.layer(Res::CONV)` is a `LayerId<Net>`);
//! - tap views `taps()` / `taps_mut()` with a gradient tap around each candidate layer;
//! - with the default `forward = sequential`, `Module` and `ModuleMut` running the fields in
//!   order. With `#[amplifiable(forward = manual)]` the forward is written by hand using the
//!   tap views (residual blocks), once for both traits with `amp_core::forward_once!`; a
//!   candidate called around its taps is reported by `amp_core::tap::check_taps` on the first
//!   training step.
//!
//! Misuse is reported as compile errors on the offending item; see `tests/ui`.

mod ast;
mod attr;
mod ctxt;
mod expand;

use proc_macro::TokenStream;

/// Makes a struct of dfdx layers amplifiable; see the crate documentation.
#[proc_macro_attribute]
pub fn amplifiable(args: TokenStream, input: TokenStream) -> TokenStream {
    let item = match syn::parse::<syn::Item>(input) {
        Ok(syn::Item::Struct(s)) => s,
        Ok(other) => {
            return syn::Error::new_spanned(
                item_keyword(&other),
                "#[amplifiable] applies to a struct of layers",
            )
            .into_compile_error()
            .into()
        }
        Err(e) => return e.into_compile_error().into(),
    };
    let cx = ctxt::Ctxt::default();
    let attrs = attr::parse_model_attrs(&cx, args.into());
    let model = ast::Model::from_ast(&cx, item, attrs);
    if let Err(e) = cx.check() {
        return e.into_compile_error().into();
    }
    expand::expand(&model.expect("a model when there are no errors")).into()
}

/// The token to point at when the item is not a struct (`enum`, `fn`, ...).
fn item_keyword(item: &syn::Item) -> proc_macro2::TokenStream {
    use quote::ToTokens;
    match item {
        syn::Item::Enum(e) => e.enum_token.to_token_stream(),
        syn::Item::Union(u) => u.union_token.to_token_stream(),
        syn::Item::Fn(f) => f.sig.fn_token.to_token_stream(),
        syn::Item::Trait(t) => t.trait_token.to_token_stream(),
        other => other.to_token_stream(),
    }
}
