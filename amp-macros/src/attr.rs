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
}

/// Parses the arguments of `#[amplifiable(...)]`.
pub fn parse_model_attrs(cx: &Ctxt, args: proc_macro2::TokenStream) -> ModelAttrs {
    let mut attrs = ModelAttrs {
        forward: ForwardKind::Sequential,
        dtype: None,
        device: None,
        bounds: Vec::new(),
    };
    if args.is_empty() {
        return attrs;
    }
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("forward") {
            let value: Ident = meta.value()?.parse()?;
            attrs.forward = match value.to_string().as_str() {
                "sequential" => ForwardKind::Sequential,
                "manual" => ForwardKind::Manual,
                _ => {
                    return Err(syn::Error::new_spanned(
                        value,
                        "expected `forward = sequential` or `forward = manual`",
                    ))
                }
            };
            Ok(())
        } else if meta.path.is_ident("dtype") {
            attrs.dtype = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("device") {
            attrs.device = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("bound") {
            let lit: LitStr = meta.value()?.parse()?;
            let parsed = lit.parse_with(
                syn::punctuated::Punctuated::<syn::WherePredicate, syn::Token![,]>::parse_terminated,
            )?;
            attrs.bounds.extend(parsed);
            Ok(())
        } else {
            Err(meta.error(
                "unknown #[amplifiable] option; expected `forward = sequential | manual`, `dtype = E`, `device = D` or `bound = \"...\"`",
            ))
        }
    });
    if let Err(e) = syn::parse::Parser::parse2(parser, args) {
        cx.syn_error(e);
    }
    attrs
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
}

/// Parses and removes the `#[amp(...)]` attributes of a field.
pub fn take_field_attrs(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> FieldAttrs {
    let mut out = FieldAttrs {
        role: Role::Layer,
        rename: None,
    };
    let mut role_set: Option<proc_macro2::Span> = None;
    attrs.retain(|attr| {
        if !attr.path().is_ident("amp") {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            let role = if meta.path.is_ident("skip") {
                Some(Role::Skip)
            } else if meta.path.is_ident("block") {
                Some(Role::Block)
            } else {
                None
            };
            if let Some(role) = role {
                if role_set.is_some() {
                    return Err(meta.error("a field is either `skip` or `block`, not both"));
                }
                role_set = Some(meta.path.get_ident().unwrap().span());
                out.role = role;
                Ok(())
            } else if meta.path.is_ident("name") {
                out.rename = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta
                    .error("unknown #[amp] option; expected `skip`, `block` or `name = \"...\"`"))
            }
        });
        if let Err(e) = result {
            cx.syn_error(e);
        }
        false
    });
    out
}
