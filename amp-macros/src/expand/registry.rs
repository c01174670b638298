//! The layer registry: `Amplifiable` (count, names, kinds), `LayerParams` (each layer's
//! parameters, for gradient norms and `param` mode) and a typed `LayerId` constant per layer.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dfdx, impl_where, offsets};
use crate::ast::{Field, Model};
use crate::attr::Role;

pub fn expand(model: &Model) -> TokenStream {
    let amp = &model.krate;
    let dfdx = dfdx(model);
    let name = &model.item.ident;
    let (e, d) = (&model.dtype, &model.device);
    let (impl_generics, ty_generics, _) = model.item.generics.split_for_impl();
    let where_clause = impl_where(model);
    let (offsets, total) = offsets(model);
    let mut not_a_block = where_clause.clone();
    not_a_block
        .predicates
        .push(syn::parse_quote!(Self: #amp::__private::NotABlock));

    let (mut push_infos, mut visits, mut consts) = (Vec::new(), Vec::new(), Vec::new());
    for (f, off) in model.fields.iter().zip(&offsets) {
        if let Some(field) = field_items(model, f, off) {
            push_infos.push(field.info);
            visits.push(field.visit);
            consts.push(field.id);
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

/// What the registry says of one field that is a candidate layer or a nested block.
struct FieldItems {
    /// Adds its `LayerInfo`s (a block's, nested under its name) to `layers`.
    info: TokenStream,
    /// Visits its parameters (a block's layers) at its layer offset.
    visit: TokenStream,
    /// Its typed id constant: a `LayerId`, or a block's `BlockId`.
    id: TokenStream,
}

/// The registry's items for field `f` at layer offset `off` (an expression: a block's size
/// is its type's `LAYER_COUNT`); `None` for a skipped field.
fn field_items(model: &Model, f: &Field, off: &TokenStream) -> Option<FieldItems> {
    let amp = &model.krate;
    let vis = &model.item.vis;
    let (e, d) = (&model.dtype, &model.device);
    let (ident, ty, lit, kind) = (&f.ident, &f.ty, &f.name, &f.kind);
    // The field's Rust name, as `TensorCollection` (and so a checkpoint) names it.
    let field = syn::ext::IdentExt::unraw(ident).to_string();
    let cname = const_name(ident);
    match f.role {
        Role::Layer => {
            let doc = format!("Typed id of the candidate layer `{lit}`.");
            Some(FieldItems {
                info: quote! {
                    layers.push(#amp::LayerInfo::new(#lit, #kind).in_field(#field));
                },
                visit: quote! {
                    visitor.visit(offset + #off, &self.#ident);
                },
                id: quote! {
                    #[doc = #doc]
                    #vis const #cname: #amp::LayerId<Self> = #amp::LayerId::new_unchecked(#off);
                },
            })
        }
        Role::Block => {
            // Spanned on the field type: `#[amp(block)]` on a type that is not
            // `#[amplifiable]` is reported there.
            let amplifiable = quote_spanned!(ty.span()=> <#ty as #amp::Amplifiable>);
            let params = quote_spanned!(ty.span()=> <#ty as #amp::LayerParams<#e, #d>>);
            let doc = format!(
                "Typed id of the nested block `{lit}`: `.layer(Block::NAME)` is the id of one of its layers in this model."
            );
            Some(FieldItems {
                info: quote! {
                    layers.extend(#amplifiable::layers().into_iter().map(|l| l.nested_in(#lit, #field)));
                },
                visit: quote! {
                    #params::visit_layers(&self.#ident, offset + #off, visitor);
                },
                id: quote! {
                    #[doc = #doc]
                    #vis const #cname: #amp::BlockId<Self, #ty> = #amp::BlockId::new_unchecked(#off);
                },
            })
        }
        Role::Skip => None,
    }
}

/// The name of a field's id constant: `CONV1` for `conv1`, `TYPE` for `r#type`.
fn const_name(ident: &syn::Ident) -> syn::Ident {
    use syn::ext::IdentExt;
    format_ident!("{}", ident.unraw().to_string().to_uppercase())
}
