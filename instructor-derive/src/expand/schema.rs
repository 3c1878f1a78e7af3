//! The body of the generated `schema` fn: the JSON schema of what serde will deserialize,
//! with validator keywords and descriptions. It runs once per process per root type.

use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::{description, live};
use crate::ast::{Container, Data, Field, Style, Variant};
use crate::attr::{OneOf, Validators};

pub fn body(cont: &Container) -> TokenStream {
    let serde = &cont.attrs.serde;
    let schema = match &cont.data {
        Data::Struct(style, fields) => {
            let transparent = serde.transparent || *style == Style::Newtype;
            match (style, transparent) {
                (_, true) => match live(fields).next() {
                    Some(f) => field_schema(f),
                    None => quote!(__p::serde_json::json!({"type": "null"})),
                },
                (Style::Named, _) => object(fields, serde.deny_unknown_fields, serde.default, None),
                (Style::Tuple, _) => {
                    let items = live(fields).map(field_schema);
                    quote!(__p::tuple(::std::vec![#(#items),*]))
                }
                _ => quote!(__p::serde_json::json!({"type": "null"})),
            }
        }
        Data::Enum(variants) => return enum_body(cont, variants),
    };
    with_description(cont, schema)
}

fn with_description(cont: &Container, schema: TokenStream) -> TokenStream {
    match description(&cont.attrs.text, &cont.attrs.docs) {
        Some(d) => quote! {
            let mut __schema = #schema;
            __p::describe(&mut __schema, #d);
            __schema
        },
        None => schema,
    }
}

/// The schema of one field where it appears, with its validators and description.
pub fn field_schema(f: &Field) -> TokenStream {
    let ty = f.ty;
    let sub = quote_spanned!(ty.span()=> __g.subschema::<#ty>());
    let kws = keywords(&f.validators);
    let inner = f
        .validators
        .inner
        .as_ref()
        .map(|(_, inner)| keywords(inner))
        .unwrap_or_default();
    let mut edits = Vec::new();
    if !kws.is_empty() {
        edits.push(quote!(__p::apply_keywords(&mut __s, &[#(#kws),*]);));
    }
    if !inner.is_empty() {
        edits.push(quote!(__p::apply_inner_keywords(&mut __s, &[#(#inner),*]);));
    }
    if let Some(d) = description(&f.text, &f.docs) {
        edits.push(quote!(__p::describe(&mut __s, #d);));
    }
    let inner_verbatim = f.validators.inner.as_ref().and_then(|(_, i)| i.verbatim);
    if f.validators.verbatim.or(inner_verbatim).is_some() {
        edits.push(quote!(__p::append_description(&mut __s, __p::VERBATIM_NOTE);));
    }
    let examples = &f.text.examples;
    if !examples.is_empty() {
        edits.push(quote!(__p::examples(&mut __s, &[#(#examples),*]);));
    }
    if edits.is_empty() {
        return sub;
    }
    quote!({
        let mut __s = #sub;
        #(#edits)*
        __s
    })
}

fn f64_lit(v: f64) -> Literal {
    Literal::f64_suffixed(v)
}

/// The schema keywords a set of validators contributes.
fn keywords(v: &Validators) -> Vec<TokenStream> {
    let mut out = Vec::new();
    if let Some((_, r)) = &v.range {
        let pairs = [
            (&r.min, quote!(Minimum)),
            (&r.max, quote!(Maximum)),
            (&r.exclusive_min, quote!(ExclusiveMinimum)),
            (&r.exclusive_max, quote!(ExclusiveMaximum)),
        ];
        for (n, kw) in pairs {
            if let Some(n) = n {
                let lit = f64_lit(n.value);
                out.push(quote!(__p::Keyword::#kw(#lit)));
            }
        }
    }
    if let Some((_, l)) = &v.length {
        if let Some((min, _)) = l.min {
            out.push(quote!(__p::Keyword::MinLength(#min)));
        }
        if let Some((max, _)) = l.max {
            out.push(quote!(__p::Keyword::MaxLength(#max)));
        }
    }
    if v.non_empty.is_some() {
        out.push(quote!(__p::Keyword::MinLength(1)));
    }
    if let Some(p) = &v.pattern {
        out.push(quote!(__p::Keyword::Pattern(#p)));
    }
    if let Some((_, one_of)) = &v.one_of {
        let values: Vec<TokenStream> = match one_of {
            OneOf::Str(s) => s.iter().map(|s| quote!(__p::Value::from(#s))).collect(),
            OneOf::Int(n) => n
                .iter()
                .map(|n| {
                    let lit = Literal::i64_suffixed(n.value as i64);
                    quote!(__p::Value::from(#lit))
                })
                .collect(),
            OneOf::Float(n) => n
                .iter()
                .map(|n| {
                    let lit = f64_lit(n.value);
                    quote!(__p::Value::from(#lit))
                })
                .collect(),
        };
        out.push(quote!(__p::Keyword::OneOf(::std::vec![#(#values),*])));
    }
    if v.email.is_some() {
        out.push(quote!(__p::Keyword::Format("email")));
    }
    if v.url.is_some() {
        out.push(quote!(__p::Keyword::Format("uri")));
    }
    out
}

/// An object schema from named fields; `extra` adds a fixed tag property first.
fn object(
    fields: &[Field],
    closed: bool,
    all_default: bool,
    extra: Option<(&str, &str)>,
) -> TokenStream {
    let tag = extra.map(|(tag, value)| {
        quote! {
            __props.insert(#tag.to_owned(), __p::string_const(#value));
            __req.push(__p::Value::from(#tag));
        }
    });
    let inserts = live(fields).map(|f| {
        let ty = f.ty;
        if f.serde.flatten {
            return quote_spanned!(ty.span()=> __g.flatten_into::<#ty>(&mut __props, &mut __req, &mut __open););
        }
        let name = &f.name;
        let schema = field_schema(f);
        let required = if all_default || f.serde.default {
            quote!()
        } else {
            quote! {
                if !<#ty as __p::Instruct>::OPTIONAL {
                    __req.push(__p::Value::from(#name));
                }
            }
        };
        quote! {
            __props.insert(#name.to_owned(), #schema);
            #required
        }
    });
    quote!({
        let mut __props = __p::Map::new();
        let mut __req: ::std::vec::Vec<__p::Value> = ::std::vec::Vec::new();
        let mut __open = false;
        #tag
        #(#inserts)*
        __p::object(__props, __req, #closed && !__open)
    })
}

/// The schema of a variant's data, without any tag.
fn content(cont: &Container, v: &Variant) -> TokenStream {
    match v.style {
        Style::Unit => quote!(__p::serde_json::json!({"type": "null"})),
        Style::Newtype => match live(&v.fields).next() {
            Some(f) => field_schema(f),
            None => quote!(__p::serde_json::json!({"type": "null"})),
        },
        Style::Tuple => {
            let items = live(&v.fields).map(field_schema);
            quote!(__p::tuple(::std::vec![#(#items),*]))
        }
        Style::Named => object(&v.fields, cont.attrs.serde.deny_unknown_fields, false, None),
    }
}

fn described(v: &Variant, schema: TokenStream) -> TokenStream {
    match description(&v.text, &v.docs) {
        Some(d) => quote!({
            let mut __b = #schema;
            __p::describe(&mut __b, #d);
            __b
        }),
        None => schema,
    }
}

fn single_key(key: &str, value: TokenStream) -> TokenStream {
    quote!({
        let mut __props = __p::Map::new();
        __props.insert(#key.to_owned(), #value);
        __p::object(__props, ::std::vec![__p::Value::from(#key)], true)
    })
}

fn enum_body(cont: &Container, variants: &[Variant]) -> TokenStream {
    let serde = &cont.attrs.serde;
    let live_variants: Vec<&Variant> = variants.iter().filter(|v| !v.serde.skip).collect();
    let container_doc = description(&cont.attrs.text, &cont.attrs.docs);

    // A plain string enum: every variant a unit, externally tagged.
    let all_unit = live_variants
        .iter()
        .all(|v| v.style == Style::Unit && !v.serde.untagged);
    if all_unit && serde.tag.is_none() && !serde.untagged {
        let names = live_variants.iter().map(|v| &v.name);
        let docs: Vec<TokenStream> = live_variants
            .iter()
            .filter_map(|v| {
                let name = &v.name;
                description(&v.text, &v.docs).map(|d| quote!((#name, #d)))
            })
            .collect();
        let doc = container_doc.map(|d| quote!(__p::describe(&mut __schema, #d);));
        return quote! {
            let mut __schema = __p::string_enum(&[#(#names),*]);
            #doc
            __p::describe_values(&mut __schema, &[#(#docs),*]);
            __schema
        };
    }

    let mut branches = Vec::new();
    let mut unit_names = Vec::new();
    for v in &live_variants {
        let name = v.name.as_str();
        let branch = if serde.untagged || v.serde.untagged {
            content(cont, v)
        } else if let Some(tag) = &serde.tag {
            match (&serde.content, v.style) {
                (Some(c), Style::Unit) => {
                    let _ = c;
                    object(&[], true, false, Some((tag, name)))
                }
                (Some(c), _) => {
                    let body = content(cont, v);
                    let c = c.as_str();
                    quote!({
                        let mut __props = __p::Map::new();
                        __props.insert(#tag.to_owned(), __p::string_const(#name));
                        __props.insert(#c.to_owned(), #body);
                        __p::object(__props, ::std::vec![__p::Value::from(#tag), __p::Value::from(#c)], true)
                    })
                }
                (None, Style::Named) => object(
                    &v.fields,
                    serde.deny_unknown_fields,
                    false,
                    Some((tag, name)),
                ),
                (None, Style::Newtype) => {
                    let closed = serde.deny_unknown_fields;
                    let ty = live(&v.fields).next().map(|f| f.ty);
                    let flatten = ty.map(|ty| {
                        quote_spanned!(ty.span()=> __g.flatten_into::<#ty>(&mut __props, &mut __req, &mut __open);)
                    });
                    quote!({
                        let mut __props = __p::Map::new();
                        let mut __req = ::std::vec![__p::Value::from(#tag)];
                        let mut __open = false;
                        __props.insert(#tag.to_owned(), __p::string_const(#name));
                        #flatten
                        __p::object(__props, __req, #closed && !__open)
                    })
                }
                (None, _) => object(&[], false, false, Some((tag, name))),
            }
        } else if v.style == Style::Unit {
            unit_names.push(name.to_owned());
            continue;
        } else {
            single_key(name, content(cont, v))
        };
        branches.push(described(v, branch));
    }
    if !unit_names.is_empty() {
        branches.insert(0, quote!(__p::string_enum(&[#(#unit_names),*])));
    }
    let keyword = if serde.untagged { "anyOf" } else { "oneOf" };
    let doc = container_doc.map(|d| quote!(__p::describe(&mut __schema, #d);));
    quote! {
        let mut __branches = ::std::vec![#(#branches),*];
        let mut __schema = if __branches.len() == 1 {
            __branches.remove(0)
        } else {
            __p::union(#keyword, __branches)
        };
        #doc
        __schema
    }
}
