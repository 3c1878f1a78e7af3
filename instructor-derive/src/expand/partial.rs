//! The streaming form of a type (`Instruct::Partial`). A struct with named fields gets a
//! `Partial{Name}` beside it: every field optional, nested types in their partial form,
//! with `Clone`, `Debug` and `Default` that hold for any type parameters. Everything else
//! is shown only once complete (`Complete<Self>`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{bounded_generics, krate, live};
use crate::ast::{Container, Data, Style};

/// The `type Partial` and `fn partial_from` items of the impl, and the items to emit
/// beside the type.
pub fn partial(cont: &Container) -> (TokenStream, TokenStream) {
    let krate = krate(cont);
    let fields = match &cont.data {
        Data::Struct(Style::Named, fields) if !cont.attrs.serde.transparent => fields,
        _ => {
            let items = quote! {
                type Partial = __p::Complete<Self>;
                fn partial_from(value: &__p::Value) -> ::core::option::Option<Self::Partial> {
                    __p::complete::<Self>(value)
                }
            };
            return (items, TokenStream::new());
        }
    };
    let ident = cont.ident;
    let vis = cont.vis;
    let name = format_ident!("Partial{}", ident);
    let generics = bounded_generics(cont, &krate);
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let params: Vec<_> = cont.generics.type_params().map(|p| &p.ident).collect();
    let live: Vec<_> = live(fields).collect();
    let members: Vec<_> = live.iter().map(|f| &f.member).collect();
    let decls = live.iter().map(|f| {
        let (member, ty, docs) = (&f.member, f.ty, &f.docs);
        let doc = (!docs.is_empty()).then(|| quote!(#[doc = ::core::concat!(#(#docs),*)]));
        quote_spanned!(ty.span()=> #doc pub #member: ::core::option::Option<<#ty as #krate::Instruct>::Partial>,)
    });
    let reads = live.iter().map(|f| {
        let (member, ty, json) = (&f.member, f.ty, &f.name);
        if f.serde.flatten {
            quote!(#member: <#ty as __p::Instruct>::partial_from(value),)
        } else {
            quote!(#member: map.get(#json).and_then(<#ty as __p::Instruct>::partial_from),)
        }
    });
    let names: Vec<String> = members.iter().map(|m| quote!(#m).to_string()).collect();
    let doc = format!(
        "`{ident}` while it streams in: each field as far as it has arrived (`None` until it starts; strings grow, numbers and enums appear once complete)."
    );
    let name_str = name.to_string();
    let items = quote! {
        type Partial = #name #ty_g;
        fn partial_from(value: &__p::Value) -> ::core::option::Option<Self::Partial> {
            let map = value.as_object()?;
            ::core::option::Option::Some(#name {
                #(#reads)*
                __instruct_params: ::core::marker::PhantomData,
            })
        }
    };
    let beside = quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis struct #name #impl_g #where_c {
            #(#decls)*
            #[doc(hidden)]
            __instruct_params: ::core::marker::PhantomData<fn() -> (#(#params,)*)>,
        }

        #[automatically_derived]
        impl #impl_g ::core::clone::Clone for #name #ty_g #where_c {
            fn clone(&self) -> Self {
                Self {
                    #(#members: ::core::clone::Clone::clone(&self.#members),)*
                    __instruct_params: ::core::marker::PhantomData,
                }
            }
        }

        #[automatically_derived]
        impl #impl_g ::core::default::Default for #name #ty_g #where_c {
            fn default() -> Self {
                Self {
                    #(#members: ::core::option::Option::None,)*
                    __instruct_params: ::core::marker::PhantomData,
                }
            }
        }

        #[automatically_derived]
        impl #impl_g ::core::fmt::Debug for #name #ty_g #where_c {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(#name_str)
                    #(.field(#names, &self.#members))*
                    .finish()
            }
        }
    };
    (items, beside)
}
