//! The layer registry: `Amplifiable` (count, names, kinds), `LayerParams` (each layer's
//! parameters, for gradient norms and `param` mode) and a typed `LayerId` constant per layer.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dfdx, dtype_device_bounds, offsets};
use crate::ast::Model;
use crate::attr::Role;

pub fn expand(model: &Model) -> TokenStream {
    let amp = &model.krate;
    let dfdx = dfdx(model);
    let name = &model.item.ident;
    let vis = &model.item.vis;
    let (e, d) = (&model.dtype, &model.device);
    let (impl_generics, ty_generics, where_clause) = model.item.generics.split_for_impl();
    let mut where_clause = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    where_clause.predicates.extend(dtype_device_bounds(model));
    let (offsets, total) = offsets(model);
    let mut not_a_block = where_clause.clone();
    not_a_block
        .predicates
        .push(syn::parse_quote!(Self: #amp::__private::NotABlock));

    let mut push_infos = Vec::new();
    let mut visits = Vec::new();
    let mut consts = Vec::new();
    for (f, off) in model.fields.iter().zip(&offsets) {
        let (ident, ty, lit, kind) = (&f.ident, &f.ty, &f.name, &f.kind);
        // The field's Rust name, as `TensorCollection` (and so a checkpoint) names it.
        let field = syn::ext::IdentExt::unraw(ident).to_string();
        match f.role {
            Role::Layer => {
                push_infos.push(quote! {
                    layers.push(#amp::LayerInfo::new(#lit, #kind).in_field(#field));
                });
                visits.push(quote! {
                    visitor.visit(offset + #off, &self.#ident);
                });
                let cname = const_name(ident);
                let doc = format!("Typed id of the candidate layer `{lit}`.");
                consts.push(quote! {
                    #[doc = #doc]
                    #vis const #cname: #amp::LayerId<Self> = #amp::LayerId::new_unchecked(#off);
                });
            }
            Role::Block => {
                // Spanned on the field type: `#[amp(block)]` on a type that is not
                // `#[amplifiable]` is reported there.
                let amplifiable = quote_spanned!(ty.span()=> <#ty as #amp::Amplifiable>);
                let params = quote_spanned!(ty.span()=> <#ty as #amp::LayerParams<#e, #d>>);
                push_infos.push(quote! {
                    layers.extend(#amplifiable::layers().into_iter().map(|l| l.nested_in(#lit, #field)));
                });
                visits.push(quote! {
                    #params::visit_layers(&self.#ident, offset + #off, visitor);
                });
                let cname = const_name(ident);
                let doc = format!(
                    "Typed id of the nested block `{lit}`: `.layer(Block::NAME)` is the id of one of its layers in this model."
                );
                consts.push(quote! {
                    #[doc = #doc]
                    #vis const #cname: #amp::BlockId<Self, #ty> = #amp::BlockId::new_unchecked(#off);
                });
            }
            Role::Skip => {}
        }
    }

    quote! {
        impl #impl_generics #amp::Amplifiable for #name #ty_generics #where_clause {
            const LAYER_COUNT: usize = #total;

            fn layers() -> ::std::vec::Vec<#amp::LayerInfo> {
                let mut layers = ::std::vec::Vec::new();
                #(#push_infos)*
                layers
            }
        }

        impl #impl_generics #amp::LayerParams<#e, #d> for #name #ty_generics #where_clause {
            fn visit_layers<__V: #amp::LayerVisitor<#e, #d>>(&self, offset: usize, visitor: &mut __V) {
                #(#visits)*
            }
        }

        impl #impl_generics #name #ty_generics #where_clause {
            #(#consts)*
        }

        // Blocks are never candidate layers; see `amp_core::Candidate`.
        impl #impl_generics #amp::Candidate for #name #ty_generics #not_a_block {}

        impl #impl_generics #dfdx::nn::BuildOnDevice<#d, #e> for #name #ty_generics #where_clause {
            type Built = Self;
        }
    }
}

/// The name of a field's id constant: `CONV1` for `conv1`, `TYPE` for `r#type`.
fn const_name(ident: &syn::Ident) -> syn::Ident {
    use syn::ext::IdentExt;
    format_ident!("{}", ident.unraw().to_string().to_uppercase())
}
