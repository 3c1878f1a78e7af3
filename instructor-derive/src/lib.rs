//! `#[derive(Instruct)]`: the JSON schema, tool spec, descriptions and validators of a type,
//! generated at compile time. Use it through the `instructor` crate.
//!
#![doc = include_str!("../attributes.md")]

mod ast;
mod attr;
mod case;
mod check;
mod ctxt;
mod expand;
mod symbol;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `instructor::Instruct`. See the crate documentation for every attribute.
#[proc_macro_derive(Instruct, attributes(instruct, serde))]
pub fn derive_instruct(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let mut cx = ctxt::Ctxt::new();
    let Some(cont) = ast::Container::from_ast(&mut cx, input) else {
        return to_compile_errors(cx.check());
    };
    check::check(&mut cx, &cont);
    match cx.check() {
        Ok(()) => expand::expand(&cont),
        Err(errors) => {
            let stub = if input.generics.lifetimes().next().is_none() {
                expand::stub(&cont)
            } else {
                proc_macro2::TokenStream::new()
            };
            let errors = errors.to_compile_error();
            quote::quote!(#errors #stub)
        }
    }
}

fn to_compile_errors(result: syn::Result<()>) -> proc_macro2::TokenStream {
    match result {
        Ok(()) => proc_macro2::TokenStream::new(),
        Err(e) => e.to_compile_error(),
    }
}
