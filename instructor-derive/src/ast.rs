//! The intermediate form of the user's type: containers, variants and fields with their
//! attributes read, each keeping a reference to its `syn` original for spans. Field types
//! that cannot be deserialized from a model's answer are reported here.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{LitStr, Type};

use crate::attr::{self, Attr, Described, Serde, Validators};
use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::symbol::*;

pub struct Container<'a> {
    pub ident: &'a syn::Ident,
    pub vis: &'a syn::Visibility,
    pub generics: &'a syn::Generics,
    pub attrs: ContainerAttrs,
    pub data: Data<'a>,
}

pub struct ContainerAttrs {
    pub text: Described,
    pub docs: Vec<TokenStream>,
    pub name: Option<LitStr>,
    pub strict: Option<Span>,
    pub crate_path: Option<syn::Path>,
    pub validate: Option<syn::Path>,
    /// `validate_with_context = path`: like `validate`, with the call's `ValidationContext`.
    pub validate_with_context: Option<syn::Path>,
    pub serde: Serde,
}

pub enum Data<'a> {
    Struct(Style, Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

#[derive(Copy, Clone, PartialEq, Eq)]
pub enum Style {
    Named,
    Tuple,
    Newtype,
    Unit,
}

pub struct Variant<'a> {
    pub ident: &'a syn::Ident,
    pub text: Described,
    pub docs: Vec<TokenStream>,
    pub serde: Serde,
    pub style: Style,
    pub fields: Vec<Field<'a>>,
    /// The name serde reads for this variant.
    pub name: String,
}

pub struct Field<'a> {
    pub member: syn::Member,
    pub ty: &'a Type,
    pub text: Described,
    pub docs: Vec<TokenStream>,
    pub validators: Validators,
    pub serde: Serde,
    /// The JSON property name serde reads (named fields only).
    pub name: String,
}

impl<'a> Container<'a> {
    pub fn from_ast(cx: &mut Ctxt, input: &'a syn::DeriveInput) -> Option<Self> {
        let attrs = container_attrs(cx, input);
        for lt in input.generics.lifetimes() {
            cx.error_spanned_by(
                lt,
                "borrowed data cannot be extracted from a model's answer; use owned types (String, Vec, ...) and no lifetime parameters",
            );
        }
        let data = match &input.data {
            syn::Data::Struct(s) => {
                let (style, fields) = fields_of(cx, &s.fields, attrs.serde.rename_all);
                Data::Struct(style, fields)
            }
            syn::Data::Enum(e) => {
                let variants = e
                    .variants
                    .iter()
                    .map(|v| variant(cx, v, &attrs.serde))
                    .collect();
                Data::Enum(variants)
            }
            syn::Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "unions cannot derive `Instruct`: serde cannot deserialize them; use an enum",
                );
                return None;
            }
        };
        Some(Self {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            attrs,
            data,
        })
    }

    /// Every field, of the struct or of all variants.
    pub fn all_fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.data {
            Data::Struct(_, fields) => Box::new(fields.iter()),
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

fn container_attrs(cx: &mut Ctxt, input: &syn::DeriveInput) -> ContainerAttrs {
    let mut text = Described::default();
    let mut name = Attr::none(NAME);
    let mut strict = Attr::none(STRICT);
    let mut crate_path = Attr::none(CRATE);
    let mut validate = Attr::none(VALIDATE);
    let mut validate_with_context = Attr::none(VALIDATE_WITH_CONTEXT);
    each_item(cx, &input.attrs, |cx, meta| {
        if attr::parse_described(meta, &mut text, cx, true)? {
        } else if meta.path == TITLE || meta.path == NAME {
            let s: LitStr = meta.value()?.parse()?;
            if s.value().is_empty() {
                cx.error_spanned_by(&s, "the tool name cannot be empty");
            }
            name.set(cx, &meta.path, s);
        } else if meta.path == STRICT {
            strict.set(cx, &meta.path, meta.path.span());
        } else if meta.path == CRATE {
            let s: LitStr = meta.value()?.parse()?;
            crate_path.set(cx, &meta.path, s.parse::<syn::Path>()?);
        } else if meta.path == VALIDATE || meta.path == VALIDATE_WITH_CONTEXT {
            let value = meta.value()?;
            let p: syn::Path = if value.peek(LitStr) {
                value.parse::<LitStr>()?.parse()?
            } else {
                value.parse()?
            };
            let target = if meta.path == VALIDATE {
                &mut validate
            } else {
                &mut validate_with_context
            };
            target.set(cx, &meta.path, p);
        } else {
            return Err(unknown(meta, CONTAINER_ITEMS));
        }
        Ok(())
    });
    ContainerAttrs {
        text,
        docs: attr::docs(&input.attrs),
        name: name.get(),
        strict: strict.get(),
        crate_path: crate_path.get(),
        validate: validate.get(),
        validate_with_context: validate_with_context.get(),
        serde: attr::parse_serde(&input.attrs),
    }
}

fn unknown(meta: &syn::meta::ParseNestedMeta, expected: &str) -> syn::Error {
    let name = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_else(|| {
            let path = &meta.path;
            quote::quote!(#path).to_string().replace(' ', "")
        });
    meta.error(format!(
        "unknown instruct attribute `{name}`, expected one of {expected}"
    ))
}

/// Reads each item of the `#[instruct(...)]` attributes among `attrs` with `item`; an
/// item's error is recorded and the attribute's remaining items are skipped.
fn each_item(
    cx: &mut Ctxt,
    attrs: &[syn::Attribute],
    mut item: impl FnMut(&mut Ctxt, &syn::meta::ParseNestedMeta) -> syn::Result<()>,
) {
    for a in attrs.iter().filter(|a| a.path() == INSTRUCT) {
        if let Err(e) = a.parse_nested_meta(|meta| item(cx, &meta)) {
            cx.syn_error(e);
        }
    }
}

fn variant<'a>(cx: &mut Ctxt, v: &'a syn::Variant, container: &Serde) -> Variant<'a> {
    let mut text = Described::default();
    each_item(cx, &v.attrs, |cx, meta| {
        if attr::parse_described(meta, &mut text, cx, false)? {
            Ok(())
        } else {
            Err(unknown(meta, VARIANT_ITEMS))
        }
    });
    let serde = attr::parse_serde(&v.attrs);
    let rule = serde.rename_all.or(container.rename_all_fields);
    let (style, fields) = fields_of(cx, &v.fields, rule);
    let ident = v.ident.to_string();
    let name = serde
        .rename
        .clone()
        .unwrap_or_else(|| match container.rename_all {
            Some(rule) => rule.apply_to_variant(&ident),
            None => ident,
        });
    Variant {
        ident: &v.ident,
        text,
        docs: attr::docs(&v.attrs),
        serde,
        style,
        fields,
        name,
    }
}

fn fields_of<'a>(
    cx: &mut Ctxt,
    fields: &'a syn::Fields,
    rule: Option<RenameRule>,
) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        syn::Fields::Named(_) => Style::Named,
        syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => Style::Newtype,
        syn::Fields::Unnamed(_) => Style::Tuple,
        syn::Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(i, f)| field(cx, i, f, rule))
        .collect();
    (style, fields)
}

fn field<'a>(
    cx: &mut Ctxt,
    index: usize,
    f: &'a syn::Field,
    rule: Option<RenameRule>,
) -> Field<'a> {
    let mut text = Described::default();
    let mut validators = Validators::default();
    each_item(cx, &f.attrs, |cx, meta| {
        if attr::parse_described(meta, &mut text, cx, true)?
            || attr::parse_validator(meta, &mut validators, cx, true)?
        {
            Ok(())
        } else {
            Err(unknown(meta, FIELD_ITEMS))
        }
    });
    let serde = attr::parse_serde(&f.attrs);
    // A skipped field is never extracted, so any type is fine there.
    if !serde.skip {
        check_type(cx, &f.ty);
    }
    let member = match &f.ident {
        Some(ident) => syn::Member::Named(ident.clone()),
        None => syn::Member::Unnamed(syn::Index {
            index: index as u32,
            span: f.ty.span(),
        }),
    };
    let name = match (&serde.rename, &f.ident) {
        (Some(r), _) => r.clone(),
        (None, Some(ident)) => {
            let raw = ident.to_string();
            let raw = raw.strip_prefix("r#").unwrap_or(&raw).to_owned();
            match rule {
                Some(rule) => rule.apply_to_field(&raw),
                None => raw,
            }
        }
        (None, None) => index.to_string(),
    };
    Field {
        member,
        ty: &f.ty,
        text,
        docs: attr::docs(&f.attrs),
        validators,
        serde,
        name,
    }
}

/// Reports field types a model's JSON answer can never become.
fn check_type(cx: &mut Ctxt, ty: &Type) {
    match ty {
        Type::Reference(r) => cx.error_spanned_by(
            r,
            "references cannot be extracted: the answer is deserialized into owned data; use an owned type such as String or Vec<T>",
        ),
        Type::Ptr(p) => cx.error_spanned_by(p, "raw pointers cannot be extracted from JSON"),
        Type::BareFn(f) => cx.error_spanned_by(f, "function types cannot be extracted from JSON"),
        Type::TraitObject(t) => cx.error_spanned_by(
            t,
            "trait objects cannot be extracted: the schema needs a concrete type; use an enum of the possible types",
        ),
        Type::ImplTrait(t) => cx.error_spanned_by(t, "`impl Trait` cannot be a field type"),
        Type::Never(n) => cx.error_spanned_by(n, "`!` cannot be extracted"),
        Type::Array(a) => check_type(cx, &a.elem),
        Type::Slice(s) => check_type(cx, &s.elem),
        Type::Group(g) => check_type(cx, &g.elem),
        Type::Paren(p) => check_type(cx, &p.elem),
        Type::Tuple(t) => t.elems.iter().for_each(|e| check_type(cx, e)),
        Type::Path(p) => {
            for seg in &p.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &seg.arguments {
                    for arg in &args.args {
                        if let syn::GenericArgument::Type(t) = arg {
                            check_type(cx, t);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}
