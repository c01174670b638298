//! placeholder
use proc_macro::TokenStream;
#[proc_macro_attribute]
pub fn amplifiable(_attr: TokenStream, item: TokenStream) -> TokenStream { item }
