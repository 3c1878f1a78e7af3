//! The body of the generated `validate_in` fn: nested validation of every field (passing
//! the call's context `__ctx` on), the field's own validators, and the container's
//! `validate` and `validate_with_context` functions. The JSON pointer of each failure
//! follows the shape serde reads (tags, content keys, flattening).

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::live;
use crate::ast::{Container, Data, Field, Style, Variant};
use crate::attr::{OneOf, Validators};

/// One step of a JSON pointer.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn push(seg: &Segment) -> TokenStream {
    match seg {
        Segment::Key(k) => quote!(__path.push_key(#k);),
        Segment::Index(i) => quote!(__path.push_index(#i);),
    }
}

pub fn body(cont: &Container) -> TokenStream {
    let serde = &cont.attrs.serde;
    let fields = match &cont.data {
        Data::Struct(style, fields) => {
            let transparent = serde.transparent || *style == Style::Newtype;
            let checks = live(fields).map(|f| {
                let member = &f.member;
                let segs = field_segments(f, *style, transparent, fields);
                field_checks(f, quote!(&self.#member), &segs)
            });
            quote!(#(#checks)*)
        }
        Data::Enum(variants) => {
            let arms = variants
                .iter()
                .filter(|v| !v.serde.skip)
                .map(|v| variant_arm(cont, v));
            quote! {
                #[allow(unreachable_patterns)]
                match self {
                    #(#arms)*
                    _ => {}
                }
            }
        }
    };
    let container = cont.attrs.validate.as_ref().map(|p| {
        let this = quote_spanned!(p.span()=> self);
        report(p, quote!(#p(#this)), &quote!(__path), &quote!(__errors))
    });
    let with_context = cont.attrs.validate_with_context.as_ref().map(|p| {
        let (this, ctx) = (
            quote_spanned!(p.span()=> self),
            quote_spanned!(p.span()=> __ctx),
        );
        report(
            p,
            quote!(#p(#this, #ctx)),
            &quote!(__path),
            &quote!(__errors),
        )
    });
    quote! {
        #fields
        #container
        #with_context
    }
}

/// Records the result of the user's validator `f` at `path`: validation errors each under
/// their own path, any other error as one failure (see `__private::Outcome`). An error type
/// that is neither is reported at `f`.
fn report(
    f: &syn::Path,
    call: TokenStream,
    path: &TokenStream,
    errors: &TokenStream,
) -> TokenStream {
    let method = syn::Ident::new("report", f.span());
    quote! {{
        #[allow(unused_imports)]
        use __p::{ReportDisplay as _, ReportErrors as _};
        (&__p::Outcome(#call)).#method(&*#path, #errors);
    }}
}

fn field_segments<'a>(
    f: &'a Field,
    style: Style,
    transparent: bool,
    fields: &[Field],
) -> Vec<Segment<'a>> {
    if transparent || f.serde.flatten {
        return Vec::new();
    }
    match style {
        Style::Named => vec![Segment::Key(&f.name)],
        _ => {
            let index = live(fields).position(|x| std::ptr::eq(x, f)).unwrap_or(0);
            vec![Segment::Index(index)]
        }
    }
}

fn variant_arm(cont: &Container, v: &Variant) -> TokenStream {
    let serde = &cont.attrs.serde;
    let ident = v.ident;
    let bindings: Vec<_> = (0..v.fields.len())
        .map(|i| format_ident!("__f{}", i))
        .collect();
    let pattern = match v.style {
        Style::Unit => quote!(Self::#ident),
        Style::Named => {
            let members = v.fields.iter().map(|f| &f.member);
            quote!(Self::#ident { #(#members: #bindings,)* })
        }
        _ => quote!(Self::#ident(#(#bindings),*)),
    };
    // Where the variant's data sits, by serde representation.
    let mut prefix: Vec<Segment> = Vec::new();
    let untagged = serde.untagged || v.serde.untagged;
    if !untagged {
        match (&serde.tag, &serde.content) {
            (Some(_), Some(content)) => prefix.push(Segment::Key(content)),
            (Some(_), None) => {}
            (None, _) => prefix.push(Segment::Key(&v.name)),
        }
    }
    let transparent = v.style == Style::Newtype;
    let checks = v
        .fields
        .iter()
        .zip(&bindings)
        .filter(|(f, _)| !f.serde.skip)
        .map(|(f, b)| {
            let mut segs: Vec<Segment> = prefix
                .iter()
                .map(|s| match s {
                    Segment::Key(k) => Segment::Key(k),
                    Segment::Index(i) => Segment::Index(*i),
                })
                .collect();
            segs.extend(field_segments(f, v.style, transparent, &v.fields));
            field_checks(f, quote!(#b), &segs)
        });
    quote! {
        #[allow(unused_variables)]
        #pattern => { #(#checks)* }
    }
}

/// Nested validation and the field's validators, under the field's pointer.
fn field_checks(f: &Field, access: TokenStream, segs: &[Segment]) -> TokenStream {
    let ty = f.ty;
    let pushes = segs.iter().map(push);
    let pops = segs.iter().map(|_| quote!(__path.pop();));
    let nested = quote_spanned!(ty.span()=>
        <#ty as __p::Instruct>::validate_in(#access, __ctx, __path, __errors);
    );
    let what = match &f.member {
        syn::Member::Named(_) => format!("`{}`", f.name),
        syn::Member::Unnamed(_) => "this value".to_owned(),
    };
    let own = checks(
        &f.validators,
        &quote!(#ty),
        &access,
        &quote!(__path),
        &quote!(__errors),
        &what,
    );
    let inner = f.validators.inner.as_ref().map(|(span, inner)| {
        let item_ty = quote!(<#ty as __p::Elements>::Item);
        let item_checks = checks(
            inner,
            &item_ty,
            &quote!(__item),
            &quote!(__ipath),
            &quote!(__ierrors),
            &what,
        );
        quote_spanned! {*span=>
            __p::each_element::<#ty>(#access, __path, __errors, |__item, __ipath, __ierrors| {
                #(#item_checks)*
            });
        }
    });
    quote! {
        #(#pushes)*
        #nested
        #(#own)*
        #inner
        #(#pops)*
    }
}

fn opt_f64(n: &Option<crate::attr::Number>) -> TokenStream {
    match n {
        Some(n) => {
            let lit = Literal::f64_suffixed(n.value);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn opt_usize(n: Option<u64>) -> TokenStream {
    match n {
        Some(n) => {
            let lit = Literal::usize_suffixed(n as usize);
            quote!(::core::option::Option::Some(#lit))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// The runtime checks of a set of validators on a value `access` of type `ty`; `what`
/// names the field in messages.
fn checks(
    v: &Validators,
    ty: &TokenStream,
    access: &TokenStream,
    path: &TokenStream,
    errors: &TokenStream,
    what: &str,
) -> Vec<TokenStream> {
    let mut out = Vec::new();
    if let Some((span, r)) = &v.range {
        let (min, max) = (opt_f64(&r.min), opt_f64(&r.max));
        let (xmin, xmax) = (opt_f64(&r.exclusive_min), opt_f64(&r.exclusive_max));
        out.push(quote_spanned! {*span=>
            <#ty as __p::CheckRange>::check_range(#access, &__p::Range {
                min: #min, max: #max, exclusive_min: #xmin, exclusive_max: #xmax,
            }, &*#path, #errors);
        });
    }
    let length = match (&v.length, v.non_empty) {
        (Some((span, l)), _) => Some((
            *span,
            l.min.as_ref().map(|m| m.0),
            l.max.as_ref().map(|m| m.0),
        )),
        (None, Some(span)) => Some((span, Some(1), None)),
        (None, None) => None,
    };
    if let Some((span, min, max)) = length {
        let (min, max) = (opt_usize(min), opt_usize(max));
        out.push(quote_spanned! {span=>
            __p::check_length::<#ty>(#access, #min, #max, &*#path, #errors);
        });
    }
    if let Some(p) = &v.pattern {
        out.push(quote_spanned! {p.span()=>
            {
                static __RE: __p::LazyRegex = __p::LazyRegex::new(#p);
                __p::check_pattern::<#ty>(#access, &__RE, &*#path, #errors);
            }
        });
    }
    if let Some((span, one_of)) = &v.one_of {
        let (kind, values, shown): (TokenStream, Vec<TokenStream>, Vec<String>) = match one_of {
            OneOf::Str(s) => (
                quote!(&'static str),
                s.iter().map(|s| quote!(#s)).collect(),
                s.iter().map(|s| format!("{:?}", s.value())).collect(),
            ),
            OneOf::Int(n) => (
                quote!(i128),
                n.iter()
                    .map(|n| {
                        let l = Literal::i128_suffixed(n.value as i128);
                        quote!(#l)
                    })
                    .collect(),
                n.iter().map(|n| format!("{}", n.value as i128)).collect(),
            ),
            OneOf::Float(n) => (
                quote!(f64),
                n.iter()
                    .map(|n| {
                        let l = Literal::f64_suffixed(n.value);
                        quote!(#l)
                    })
                    .collect(),
                n.iter().map(|n| format!("{}", n.value)).collect(),
            ),
        };
        let shown = format!("[{}]", shown.join(", "));
        out.push(quote_spanned! {*span=>
            __p::check_one_of::<#kind, #ty>(#access, &[#(#values),*], #shown, &*#path, #errors);
        });
    }
    if let Some(span) = v.email {
        out.push(quote_spanned!(span=> __p::check_email::<#ty>(#access, &*#path, #errors);));
    }
    if let Some(span) = v.url {
        out.push(quote_spanned!(span=> __p::check_url::<#ty>(#access, &*#path, #errors);));
    }
    if let Some(span) = v.verbatim {
        out.push(quote_spanned! {span=>
            __p::check_verbatim::<#ty>(#access, __ctx, #what, &*#path, #errors);
        });
    }
    if let Some(custom) = &v.custom {
        let value = quote_spanned!(custom.span()=> __value);
        let check = report(custom, quote!(#custom(#value)), path, errors);
        out.push(quote! {{
            let #value = #access;
            #check
        }});
    }
    if let Some(custom) = &v.custom_with_context {
        let (value, ctx) = (
            quote_spanned!(custom.span()=> __value),
            quote_spanned!(custom.span()=> __ctx),
        );
        let check = report(custom, quote!(#custom(#value, #ctx)), path, errors);
        out.push(quote! {{
            let #value = #access;
            #check
        }});
    }
    out
}
