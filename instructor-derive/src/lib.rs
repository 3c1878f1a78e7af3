//! derive
use proc_macro::TokenStream;
/// Derive.
#[proc_macro_derive(Instruct, attributes(instruct, serde))]
pub fn derive_instruct(_input: TokenStream) -> TokenStream { TokenStream::new() }
