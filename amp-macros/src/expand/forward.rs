//! The sequential forward (`forward = sequential`, the default): the fields run in declaration
//! order through the tap views, as `Module` (inference) and `ModuleMut` (training).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{dfdx, impl_where};
use crate::ast::Model;
use crate::attr::Role;

pub fn expand(model: &Model) -> TokenStream {
    let immut = one(model, false);
    let mutable = one(model, true);
    quote!(#immut #mutable)
}

/// `Module<__X>` (or `ModuleMut<__X>` when `mutable`) for the struct.
fn one(model: &Model, mutable: bool) -> TokenStream {
    let dfdx = dfdx(model);
    let name = &model.item.ident;
    let (_, ty_generics, _) = model.item.generics.split_for_impl();
    let mut where_clause = impl_where(model);
    let mut generics = model.item.generics.clone();
    generics.params.push(syn::parse_quote!(__X));
    let (impl_generics, _, _) = generics.split_for_impl();

    let receiver = if mutable {
        quote!(&mut self)
    } else {
        quote!(&self)
    };
    let (trait_, method, taps) = if mutable {
        (
            quote!(#dfdx::nn::ModuleMut),
            quote!(try_forward_mut),
            quote!(let mut __taps = self.taps_mut();),
        )
    } else {
        (
            quote!(#dfdx::nn::Module),
            quote!(try_forward),
            quote!(let __taps = self.taps();),
        )
    };
    // Every dfdx layer on device `D` fails with `D::Err`; naming it through the device (not
    // through the input type) keeps the trait solver from chasing its own tail.
    let d = &model.device;
    let err = quote!(<#d as #dfdx::tensor::HasErr>::Err);

    let (bounds, steps, output) = chain(model, &trait_, &method, &err);
    where_clause.predicates.extend(bounds);

    quote! {
        impl #impl_generics #trait_<__X> for #name #ty_generics #where_clause {
            type Output = #output;
            type Error = #err;

            fn #method(#receiver, x: __X) -> ::core::result::Result<Self::Output, Self::Error> {
                #taps
                #(#steps)*
                ::core::result::Result::Ok(x)
            }
        }
    }
}

/// The fields, in order, as one chain of `trait_` calls from `__X`: the where clause's bounds
/// (each layer takes what the previous one gave; candidates' inputs and outputs can be
/// tapped), a `let x = __taps.field.method(x)?;` per field, and the last one's output type.
fn chain(
    model: &Model,
    trait_: &TokenStream,
    method: &TokenStream,
    err: &TokenStream,
) -> (Vec<syn::WherePredicate>, Vec<TokenStream>, TokenStream) {
    let amp = &model.krate;
    let mut bounds = Vec::new();
    let mut steps = Vec::new();
    let mut input = quote!(__X);
    for f in model.fields.iter().filter(|f| f.scalar.is_none()) {
        let (ident, ty) = (&f.ident, &f.ty);
        // Spanned on the field type: a layer that does not accept what the previous one
        // produced is reported at the field.
        bounds.push(quote_spanned!(ty.span()=> #ty: #trait_<#input, Error = #err>));
        if f.role == Role::Layer {
            bounds.push(quote!(#input: #amp::tap::Tappable<Err = #err>));
            bounds.push(quote!(<#ty as #trait_<#input>>::Output: #amp::tap::Tappable));
        }
        steps.push(quote!(let x = __taps.#ident.#method(x)?;));
        input = quote!(<#ty as #trait_<#input>>::Output);
    }
    let bounds = bounds.into_iter().map(|b| syn::parse_quote!(#b)).collect();
    (bounds, steps, input)
}
