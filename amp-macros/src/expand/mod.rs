//! Code generation from the checked [`Model`]: one file per generated piece.

mod forward;
mod registry;
mod tensor_collection;
mod views;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, WhereClause};

use crate::ast::Model;
use crate::attr::{ForwardKind, Role};

/// Everything `#[amplifiable]` emits for `model`.
pub fn expand(model: &Model) -> TokenStream {
    let item = &model.item;
    let tc = tensor_collection::expand(model);
    let reg = registry::expand(model);
    let views = views::expand(model);
    let checks = layer_assertions(model);
    let fwd = match model.forward {
        ForwardKind::Sequential => forward::expand(model),
        ForwardKind::Manual => TokenStream::new(),
    };
    quote! {
        #item
        #checks
        #tc
        #reg
        #views
        #fwd
    }
}

/// Path to dfdx as re-exported by amp-core, so users need not name the same version.
fn dfdx(model: &Model) -> TokenStream {
    let amp = &model.krate;
    quote!(#amp::__private::dfdx)
}

/// What every generated impl asks of the struct's parameters: `E: AmpDtype, D: AmpDevice<E>`
/// (what dfdx's parameterized layers and the taps need) plus the user's `bound = "..."`.
///
/// These go on the impls, never on the struct: dfdx's `TensorCollection::To<E2, D2>` may only
/// assume `E2: Dtype, D2: Device<E2>` of the struct's parameters.
fn impl_where(model: &Model) -> WhereClause {
    // Re-spanned at the macro call: these predicates are generated, and lints about bounds
    // written in two places must not point at the user's attribute.
    let amp = &model.krate;
    let respan = |i: &Ident| Ident::new(&i.to_string(), proc_macro2::Span::call_site());
    let (e, d) = (respan(&model.dtype), respan(&model.device));
    let mut clause =
        (model.item.generics.where_clause.clone()).unwrap_or_else(|| syn::parse_quote!(where));
    clause
        .predicates
        .push(syn::parse_quote!(#e: #amp::AmpDtype));
    clause
        .predicates
        .push(syn::parse_quote!(#d: #amp::AmpDevice<#e>));
    clause.predicates.extend(model.extra_bounds.iter().cloned());
    clause
}

/// A never-called function per field that asks for `Field: Layer<E, D>` (and, of a candidate
/// layer, `Field: Candidate`) under the struct's own bounds, spanned on the field: a field
/// that is not a module, a parameterless module or a nested block used as a candidate is
/// reported there with amp's message, not deep inside the generated code.
fn layer_assertions(model: &Model) -> TokenStream {
    let amp = &model.krate;
    let (e, d) = (&model.dtype, &model.device);
    let (impl_generics, _, _) = model.item.generics.split_for_impl();
    let where_clause = impl_where(model);
    let checks = model.fields.iter().filter(|f| f.scalar.is_none()).map(|f| {
        let ty = &f.ty;
        let candidate = (f.role == Role::Layer)
            .then(|| quote_spanned!(ty.span()=> __amp_is_candidate::<#ty>();));
        quote_spanned!(ty.span()=> __amp_is_layer::<#e, #d, #ty>(); #candidate)
    });
    quote! {
        const _: () = {
            fn __amp_is_layer<__E: #amp::__private::dfdx::prelude::Dtype, __D: #amp::__private::dfdx::prelude::Device<__E>, __M: #amp::Layer<__E, __D>>() {}
            fn __amp_is_candidate<__M: #amp::Candidate>() {}
            #[allow(dead_code)]
            fn __amp_fields_are_layers #impl_generics () #where_clause {
                #(#checks)*
            }
        };
    }
}

/// The struct's generic arguments (`C, E, D`), with the dtype and device replaced if asked.
fn type_args(model: &Model, dtype: Option<&Ident>, device: Option<&Ident>) -> Vec<TokenStream> {
    model
        .item
        .generics
        .params
        .iter()
        .map(|p| match p {
            GenericParam::Type(t) if t.ident == model.dtype && dtype.is_some() => quote!(#dtype),
            GenericParam::Type(t) if t.ident == model.device && device.is_some() => quote!(#device),
            GenericParam::Type(t) => {
                let i = &t.ident;
                quote!(#i)
            }
            GenericParam::Const(c) => {
                let i = &c.ident;
                quote!(#i)
            }
            GenericParam::Lifetime(l) => {
                let l = &l.lifetime;
                quote!(#l)
            }
        })
        .collect()
}

/// Block-local index of each field's first candidate layer, as a const expression
/// (`0 + 1 + <Block as Amplifiable>::LAYER_COUNT`), and the total count.
fn offsets(model: &Model) -> (Vec<TokenStream>, TokenStream) {
    let amp = &model.krate;
    let mut acc = quote!(0usize);
    let mut out = Vec::new();
    for f in &model.fields {
        out.push(acc.clone());
        let ty = &f.ty;
        match f.role {
            Role::Layer => acc = quote!(#acc + 1usize),
            Role::Block => acc = quote!(#acc + <#ty as #amp::Amplifiable>::LAYER_COUNT),
            Role::Skip => {}
        }
    }
    (out, acc)
}

/// The name of a generated companion type: `NetTaps` for `Net`.
fn companion(model: &Model, suffix: &str) -> Ident {
    format_ident!("{}{}", model.item.ident, suffix)
}
