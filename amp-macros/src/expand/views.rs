//! The tap views: `NetTaps<'_, ..>` / `NetTapsMut<'_, ..>` mirror the struct, with each
//! candidate layer wrapped in its taps and each nested block in its layer offset. The
//! generated forward uses them; a hand-written forward (`forward = manual`) uses them too,
//! so both get exactly the same taps.

use proc_macro2::TokenStream;
use quote::quote;

use super::{companion, impl_where, offsets, type_args};
use crate::ast::{Field, Model};
use crate::attr::Role;

pub fn expand(model: &Model) -> TokenStream {
    let name = &model.item.ident;
    let vis = &model.item.vis;
    let (impl_generics, ty_generics, _) = model.item.generics.split_for_impl();
    let where_clause = impl_where(model);
    let params = &model.item.generics.params;
    let args = type_args(model, None, None);
    let (offsets, _) = offsets(model);

    let view = companion(model, "Taps");
    let view_mut = companion(model, "TapsMut");

    let mut fields = Vec::new();
    let mut fields_mut = Vec::new();
    let mut inits = Vec::new();
    let mut inits_mut = Vec::new();
    for (f, off) in model.fields.iter().zip(&offsets) {
        let [field, field_mut, init, init_mut] = view_field(model, f, off);
        fields.push(field);
        fields_mut.push(field_mut);
        inits.push(init);
        inits_mut.push(init_mut);
    }
    let doc = format!("[`{name}`] with a tap around each candidate layer, for `Module::forward`.");
    let doc_mut =
        format!("[`{name}`] with a tap around each candidate layer, for `ModuleMut::forward_mut`.");

    quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis struct #view<'__a, #params> #where_clause {
            #(#fields,)*
        }

        #[doc = #doc_mut]
        #[allow(dead_code)]
        #vis struct #view_mut<'__a, #params> #where_clause {
            #(#fields_mut,)*
        }

        impl #impl_generics #name #ty_generics #where_clause {
            /// The layers with their taps, for a forward pass (`Module`).
            #[allow(dead_code)]
            #vis fn taps(&self) -> #view<'_, #(#args),*> {
                #view { #(#inits,)* }
            }

            /// The layers with their taps, for a training forward pass (`ModuleMut`).
            #[allow(dead_code)]
            #vis fn taps_mut(&mut self) -> #view_mut<'_, #(#args),*> {
                #view_mut { #(#inits_mut,)* }
            }
        }
    }
}

/// One field in both views, and how `taps()` / `taps_mut()` fill it: a candidate in its
/// taps, a nested block at its layer offset `off`, anything else as a plain reference.
/// `[field, field_mut, init, init_mut]`.
fn view_field(model: &Model, f: &Field, off: &TokenStream) -> [TokenStream; 4] {
    let amp = &model.krate;
    let (ident, ty) = (&f.ident, &f.ty);
    let doc = format!("The field `{ident}`.");
    match f.role {
        Role::Layer => [
            quote!(#[doc = #doc] pub #ident: #amp::tap::Tapped<'__a, #ty>),
            quote!(#[doc = #doc] pub #ident: #amp::tap::TappedMut<'__a, #ty>),
            quote!(#ident: #amp::tap::Tapped::new(&self.#ident, #off)),
            quote!(#ident: #amp::tap::TappedMut::new(&mut self.#ident, #off)),
        ],
        Role::Block => [
            quote!(#[doc = #doc] pub #ident: #amp::tap::Block<'__a, #ty>),
            quote!(#[doc = #doc] pub #ident: #amp::tap::BlockMut<'__a, #ty>),
            quote!(#ident: #amp::tap::Block::new(&self.#ident, #off)),
            quote!(#ident: #amp::tap::BlockMut::new(&mut self.#ident, #off)),
        ],
        Role::Skip => [
            quote!(#[doc = #doc] pub #ident: &'__a #ty),
            quote!(#[doc = #doc] pub #ident: &'__a mut #ty),
            quote!(#ident: &self.#ident),
            quote!(#ident: &mut self.#ident),
        ],
    }
}
