//! `TensorCollection`: how dfdx builds the module, finds its tensors for optimizers, gradient
//! zeroing, device moves and saving. Fields are visited in declaration order, under their
//! Rust names, so saved weights use the same paths as the struct.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dfdx, impl_where, type_args};
use crate::ast::Model;

/// dfdx implements its field-visiting traits for tuples of at most six.
const MAX_TUPLE: usize = 6;

pub fn expand(model: &Model) -> TokenStream {
    let dfdx = dfdx(model);
    let name = &model.item.ident;
    let (e, d) = (&model.dtype, &model.device);
    let (impl_generics, ty_generics, _) = model.item.generics.split_for_impl();
    let where_clause = impl_where(model);

    let e2 = format_ident!("__E2");
    let d2 = format_ident!("__D2");
    let to_args = type_args(model, Some(&e2), Some(&d2));

    let fields: Vec<TokenStream> = model
        .fields
        .iter()
        .map(|f| {
            let ident = &f.ident;
            let lit = syn::ext::IdentExt::unraw(ident).to_string();
            if let Some(default) = &f.scalar {
                let opts =
                    quote!(#dfdx::nn::tensor_collection::ScalarOptions::from_default(#default));
                return quote!(Self::scalar(#lit, |s| &s.#ident, |s| &mut s.#ident, #opts));
            }
            // Spanned on the field type, so a field that is not a module is reported there.
            quote_spanned! {f.ty.span()=>
                Self::module(#lit, |s| &s.#ident, |s| &mut s.#ident)
            }
        })
        .collect();
    let idents: Vec<TokenStream> = model
        .fields
        .iter()
        .map(|f| {
            let i = &f.ident;
            quote!(#i)
        })
        .collect();
    let field_tree = tree(&fields);
    let pattern_tree = tree(&idents);

    quote! {
        impl #impl_generics #dfdx::nn::tensor_collection::TensorCollection<#e, #d>
            for #name #ty_generics #where_clause
        {
            type To<#e2: #dfdx::prelude::Dtype, #d2: #dfdx::prelude::Device<#e2>> = #name<#(#to_args),*>;

            fn iter_tensors<__V: #dfdx::nn::tensor_collection::ModuleVisitor<Self, #e, #d>>(
                visitor: &mut __V,
            ) -> ::core::result::Result<::core::option::Option<Self::To<__V::E2, __V::D2>>, __V::Err> {
                visitor.visit_fields(#field_tree, |#pattern_tree| #name { #(#idents),* })
            }
        }
    }
}

/// Nests `items` into tuples of at most [`MAX_TUPLE`] elements.
fn tree(items: &[TokenStream]) -> TokenStream {
    if items.len() <= MAX_TUPLE {
        return quote!((#(#items,)*));
    }
    let chunk = items.len().div_ceil(MAX_TUPLE);
    let groups: Vec<TokenStream> = items.chunks(chunk).map(tree).collect();
    tree(&groups)
}
