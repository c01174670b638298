//! The layer registry: `Amplifiable` (count, names, kinds), `LayerParams` (each layer's
//! parameters, for gradient norms and `param` mode) and a typed `LayerId` constant per layer.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dfdx, dtype_device_bounds, offsets};
use crate::ast::Model;
use crate::attr::Role;

pub fn expand(model: &Model) -> TokenStream {
    let dfdx = dfdx();
    let name = &model.item.ident;
    let vis = &model.item.vis;
    let (e, d) = (&model.dtype, &model.device);
    let (impl_generics, ty_generics, where_clause) = model.item.generics.split_for_impl();
    let mut where_clause = where_clause
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(where));
    where_clause.predicates.extend(dtype_device_bounds(model));
    let (offsets, total) = offsets(model);

    let mut push_infos = Vec::new();
    let mut visits = Vec::new();
    let mut consts = Vec::new();
    for (f, off) in model.fields.iter().zip(&offsets) {
        let (ident, ty, lit, kind) = (&f.ident, &f.ty, &f.name, &f.kind);
        match f.role {
            Role::Layer => {
                push_infos.push(quote! {
                    layers.push(::amp_core::LayerInfo::new(#lit, #kind));
                });
                visits.push(quote! {
                    visitor.visit(offset + #off, &self.#ident);
                });
                let cname = format_ident!("{}", ident.to_string().to_uppercase());
                let doc = format!("Typed id of the candidate layer `{lit}`.");
                consts.push(quote! {
                    #[doc = #doc]
                    #vis const #cname: ::amp_core::LayerId<Self> = ::amp_core::LayerId::new_unchecked(#off);
                });
            }
            Role::Block => {
                // Spanned on the field type: `#[amp(block)]` on a type that is not
                // `#[amplifiable]` is reported there.
                let amp = quote_spanned!(ty.span()=> <#ty as ::amp_core::Amplifiable>);
                let params = quote_spanned!(ty.span()=> <#ty as ::amp_core::LayerParams<#e, #d>>);
                push_infos.push(quote! {
                    layers.extend(#amp::layers().into_iter().map(|l| l.nested_in(#lit)));
                });
                visits.push(quote! {
                    #params::visit_layers(&self.#ident, offset + #off, visitor);
                });
            }
            Role::Skip => {}
        }
    }

    quote! {
        impl #impl_generics ::amp_core::Amplifiable for #name #ty_generics #where_clause {
            const LAYER_COUNT: usize = #total;

            fn layers() -> ::std::vec::Vec<::amp_core::LayerInfo> {
                let mut layers = ::std::vec::Vec::new();
                #(#push_infos)*
                layers
            }
        }

        impl #impl_generics ::amp_core::LayerParams<#e, #d> for #name #ty_generics #where_clause {
            fn visit_layers<__V: ::amp_core::LayerVisitor<#e, #d>>(&self, offset: usize, visitor: &mut __V) {
                #(#visits)*
            }
        }

        impl #impl_generics #name #ty_generics #where_clause {
            #(#consts)*
        }

        impl #impl_generics #dfdx::nn::BuildOnDevice<#d, #e> for #name #ty_generics #where_clause {
            type Built = Self;
        }
    }
}
