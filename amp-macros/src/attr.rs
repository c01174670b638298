//! Parsing of `#[amplifiable(...)]` and of the field attribute `#[amp(...)]`.

use syn::{Attribute, Ident, LitStr};

use crate::ctxt::Ctxt;

/// How the forward pass is produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    /// Generated: the fields in declaration order, taps around each candidate layer.
    Sequential,
    /// Written by hand with the generated `taps()` / `taps_mut()` views.
    Manual,
}

/// Options of `#[amplifiable(...)]`.
pub struct ModelAttrs {
    pub forward: ForwardKind,
    /// Name of the dtype generic parameter (default `E`).
    pub dtype: Option<Ident>,
    /// Name of the device generic parameter (default `D`).
    pub device: Option<Ident>,
    /// Extra where-predicates for the generated impls (`bound = "D: NnDevice<E>"`).
    pub bounds: Vec<syn::WherePredicate>,
    /// Path to amp-core in generated code (`crate = "my_lib::amp_core"`); default `::amp_core`.
    pub krate: Option<syn::Path>,
}

/// Records the first occurrence of an option; a second one is an error, as in serde_derive
/// (silently keeping the last value hides a typo or a merge mistake).
fn set_once<T>(
    slot: &mut Option<T>,
    value: T,
    meta: &syn::meta::ParseNestedMeta,
) -> syn::Result<()> {
    if slot.is_some() {
        let name = meta
            .path
            .get_ident()
            .map(|i| syn::ext::IdentExt::unraw(i).to_string())
            .unwrap_or_default();
        return Err(meta.error(format!("duplicate option `{name}`")));
    }
    *slot = Some(value);
    Ok(())
}

/// Parses the arguments of `#[amplifiable(...)]`.
pub fn parse_model_attrs(cx: &Ctxt, args: proc_macro2::TokenStream) -> ModelAttrs {
    let mut forward = None;
    let mut dtype = None;
    let mut device = None;
    let mut bound: Option<Vec<syn::WherePredicate>> = None;
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("forward") {
            let value: Ident = meta.value()?.parse()?;
            let kind = match value.to_string().as_str() {
                "sequential" => ForwardKind::Sequential,
                "manual" => ForwardKind::Manual,
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        "expected `forward = sequential` or `forward = manual`",
                    ))
                }
            };
            set_once(&mut forward, kind, &meta)
        } else if meta.path.is_ident("dtype") {
            let value = meta.value()?.parse()?;
            set_once(&mut dtype, value, &meta)
        } else if meta.path.is_ident("device") {
            let value = meta.value()?.parse()?;
            set_once(&mut device, value, &meta)
        } else if meta.path.is_ident("bound") {
            let lit: LitStr = meta.value()?.parse()?;
            let parsed = lit.parse_with(
                syn::punctuated::Punctuated::<syn::WherePredicate, syn::Token![,]>::parse_terminated,
            )?;
            set_once(&mut bound, parsed.into_iter().collect(), &meta)
        } else if meta.path.is_ident("crate") {
            let lit: LitStr = meta.value()?.parse()?;
            let path: syn::Path = lit.parse()?;
            set_once(&mut krate, path, &meta)
        } else {
            Err(meta.error(
                "unknown #[amplifiable] option; expected `forward = sequential | manual`, `dtype = E`, `device = D`, `bound = \"...\"` or `crate = \"...\"`",
            ))
        }
    });
    if !args.is_empty() {
        if let Err(e) = syn::parse::Parser::parse2(parser, args) {
            cx.syn_error(e);
        }
    } else {
        drop(parser);
    }
    ModelAttrs {
        forward: forward.unwrap_or(ForwardKind::Sequential),
        dtype,
        device,
        bounds: bound.unwrap_or_default(),
        krate,
    }
}

/// What a field is to amp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A candidate layer: tapped, measured, possibly amplified.
    Layer,
    /// A nested `#[amplifiable]` block whose layers join the parent's.
    Block,
    /// Part of the forward pass but never amplified (activations, pooling, ...).
    Skip,
}

/// Options of `#[amp(...)]` on one field.
pub struct FieldAttrs {
    pub role: Role,
    /// The name in the layer registry, if not the field's own.
    pub rename: Option<LitStr>,
    /// `default = <expr>`: the value a skipped plain number field gets when the model is built.
    pub default: Option<syn::Expr>,
}

/// Parses and removes the `#[amp(...)]` attributes of a field (all of them: options may be
/// split over several `#[amp]` attributes, but each may appear once).
pub fn take_field_attrs(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> FieldAttrs {
    let mut role: Option<Role> = None;
    let mut rename: Option<LitStr> = None;
    let mut default: Option<syn::Expr> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("amp") {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            let this = if meta.path.is_ident("skip") {
                Some(Role::Skip)
            } else if meta.path.is_ident("block") {
                Some(Role::Block)
            } else {
                None
            };
            if let Some(this) = this {
                return match role {
                    Some(prev) if prev == this => set_once(&mut role, this, &meta),
                    Some(_) => Err(meta.error("a field is either `skip` or `block`, not both")),
                    None => set_once(&mut role, this, &meta),
                };
            }
            if meta.path.is_ident("name") {
                let value = meta.value()?.parse()?;
                set_once(&mut rename, value, &meta)
            } else if meta.path.is_ident("default") {
                let value = meta.value()?.parse()?;
                set_once(&mut default, value, &meta)
            } else {
                Err(meta
                    .error("unknown #[amp] option; expected `skip`, `block`, `name = \"...\"` or `default = ...`"))
            }
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
        false
    });
    FieldAttrs {
        role: role.unwrap_or(Role::Layer),
        rename,
        default,
    }
}
