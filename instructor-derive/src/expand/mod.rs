//! Generation: turns the checked intermediate form into the `Instruct` impl. Everything
//! generated sits in `const _: () = { ... };` and reaches runtime helpers through
//! `<crate>::__private`, so it needs nothing from the user's scope.

mod partial;
mod schema;
mod validate;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Data, Field, Style};

/// The crate path generated code names (`::instructor` unless `#[instruct(crate = "..")]`).
pub fn krate(cont: &Container) -> TokenStream {
    match &cont.attrs.crate_path {
        Some(p) => quote!(#p),
        None => quote!(::instructor),
    }
}

/// A doc/description expression: the override, else the doc comment, else nothing.
pub fn description(text: &crate::attr::Described, docs: &[TokenStream]) -> Option<TokenStream> {
    if let Some(d) = &text.description {
        return Some(quote!(#d));
    }
    if docs.is_empty() {
        return None;
    }
    Some(quote!(__p::trim_doc(::core::concat!(#(#docs),*))))
}

/// Fields that take part in deserialization.
pub fn live<'a, 'b>(fields: &'b [Field<'a>]) -> impl Iterator<Item = &'b Field<'a>> {
    fields.iter().filter(|f| !f.serde.skip)
}

pub fn expand(cont: &Container) -> TokenStream {
    let krate = krate(cont);
    let ident = cont.ident;
    let generics = bounded_generics(cont, &krate);
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let is_generic = cont.generics.type_params().next().is_some();

    let name = match &cont.attrs.name {
        Some(n) => quote!(#n),
        None => {
            let s = ident.to_string();
            quote!(#s)
        }
    };
    let description = match description(&cont.attrs.text, &cont.attrs.docs) {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let examples = &cont.attrs.text.examples;
    let strict_reasons = strict_reasons(cont);
    let schema_body = schema::body(cont);
    let validate_body = validate::body(cont);

    let schema_name = if is_generic {
        let params = cont.generics.type_params().map(|p| &p.ident);
        quote! {
            fn schema_name() -> __p::Cow<'static, str> {
                __p::generic_name(#name, &[#(<#params as __p::Instruct>::schema_name()),*])
            }
        }
    } else {
        quote!()
    };
    let type_schema = if is_generic {
        quote!()
    } else {
        quote! {
            fn type_schema() -> &'static __p::TypeSchema {
                static CELL: __p::OnceLock<__p::TypeSchema> = __p::OnceLock::new();
                CELL.get_or_init(__p::TypeSchema::build::<Self>)
            }
        }
    };
    let (strict_items, strict_use) = strict_assertions(cont, is_generic);
    let (partial_items, partial_beside) = partial::partial(cont);

    quote! {
        #partial_beside

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications, clippy::all)]
        const _: () = {
            use #krate::__private as __p;

            #strict_items

            #[automatically_derived]
            impl #impl_g __p::Instruct for #ident #ty_g #where_c {
                const NAME: &'static str = #name;
                const DESCRIPTION: ::core::option::Option<&'static str> = #description;
                const EXAMPLES: &'static [&'static str] = &[#(#examples),*];
                const IS_DEFINITION: bool = true;
                const STRICT_INCOMPATIBLE: ::core::option::Option<&'static str> = #strict_reasons;

                #schema_name
                #type_schema
                #partial_items

                fn schema(__g: &mut __p::SchemaGenerator) -> __p::Value {
                    #strict_use
                    #schema_body
                }

                fn validate_at(&self, __path: &mut __p::JsonPointer, __errors: &mut __p::ValidationErrors) {
                    <Self as __p::Instruct>::validate_in(self, &__p::ValidationContext::empty(), __path, __errors);
                }

                fn validate_in(
                    &self,
                    __ctx: &__p::ValidationContext<'_>,
                    __path: &mut __p::JsonPointer,
                    __errors: &mut __p::ValidationErrors,
                ) {
                    #validate_body
                }
            }
        };
    }
}

/// The user's generics with `T: Instruct` added to every type parameter.
pub fn bounded_generics(cont: &Container, krate: &TokenStream) -> syn::Generics {
    let mut generics = cont.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(#krate::Instruct));
    }
    generics
}

/// Whether a field type names the container itself (a directly recursive field), whose
/// constants would refer to themselves.
fn mentions(ty: &syn::Type, ident: &syn::Ident) -> bool {
    quote!(#ty)
        .into_iter()
        .flat_map(flatten_tokens)
        .any(|t| matches!(&t, proc_macro2::TokenTree::Ident(i) if i == ident || i == "Self"))
}

fn flatten_tokens(t: proc_macro2::TokenTree) -> Vec<proc_macro2::TokenTree> {
    match t {
        proc_macro2::TokenTree::Group(g) => {
            g.stream().into_iter().flat_map(flatten_tokens).collect()
        }
        other => vec![other],
    }
}

/// The type's reason for not fitting OpenAI's strict dialect: each live field's (a
/// recursive field adds nothing new), then the type's own.
fn strict_reasons(cont: &Container) -> TokenStream {
    let mut reasons: Vec<TokenStream> = cont
        .all_fields()
        .filter(|f| !f.serde.skip && !mentions(f.ty, cont.ident))
        .map(|f| {
            let ty = f.ty;
            quote!(__p::strict_reason::<#ty>())
        })
        .collect();
    let tuple = match &cont.data {
        Data::Struct(Style::Tuple, _) => true,
        Data::Enum(vs) => vs.iter().any(|v| v.style == Style::Tuple && !v.serde.skip),
        _ => false,
    };
    if tuple {
        reasons.push(quote!(::core::option::Option::Some(
            "tuples need `prefixItems`, which OpenAI strict mode does not support; use named fields"
        )));
    }
    reasons.into_iter().rev().fold(
        quote!(::core::option::Option::None),
        |rest, r| quote!(__p::or_reason(#r, #rest)),
    )
}

/// `#[instruct(strict)]`: one compile-time assertion per field, spanned at the field's type
/// so the build error points there. Generic types check when instantiated.
fn strict_assertions(cont: &Container, is_generic: bool) -> (TokenStream, TokenStream) {
    if cont.attrs.strict.is_none() {
        return (quote!(), quote!());
    }
    let checks: Vec<TokenStream> = cont
        .all_fields()
        .filter(|f| !f.serde.skip && !mentions(f.ty, cont.ident))
        .map(|f| {
            let ty = f.ty;
            quote_spanned!(ty.span()=> __p::assert_strict(<#ty as __p::Instruct>::STRICT_INCOMPATIBLE);)
        })
        .collect();
    if !is_generic {
        let items = checks.iter().map(|c| quote!(const _: () = { #c };));
        return (quote!(#(#items)*), quote!());
    }
    let ident = cont.ident;
    let krate = krate(cont);
    let generics = bounded_generics(cont, &krate);
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let items = quote! {
        impl #impl_g #ident #ty_g #where_c {
            #[doc(hidden)]
            const __INSTRUCT_STRICT_CHECK: () = { #(#checks)* };
        }
    };
    (items, quote!(let () = Self::__INSTRUCT_STRICT_CHECK;))
}

/// What is emitted beside `compile_error!` when the input has errors: an impl that keeps
/// the type usable, so one mistake does not cascade into errors wherever it is used.
pub fn stub(cont: &Container) -> TokenStream {
    let krate = krate(cont);
    let ident = cont.ident;
    let generics = bounded_generics(cont, &krate);
    let (impl_g, ty_g, where_c) = generics.split_for_impl();
    let name = ident.to_string();
    quote! {
        const _: () = {
            impl #impl_g #krate::Instruct for #ident #ty_g #where_c {
                const NAME: &'static str = #name;
                type Partial = #krate::__private::Complete<Self>;
                fn partial_from(_: &#krate::__private::Value) -> ::core::option::Option<Self::Partial> {
                    ::core::option::Option::None
                }
                fn schema(_: &mut #krate::SchemaGenerator) -> #krate::__private::Value {
                    #krate::__private::Value::Null
                }
            }
        };
    }
}
