//! Reading attributes: strict for `#[instruct(...)]` (unknown, duplicate and malformed
//! items are errors), lenient for `#[serde(...)]` (what we understand is read, the rest is
//! left to serde), and doc comments.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Token, UnOp};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// One attribute value that may be given once; a second occurrence is an error there.
pub struct Attr<T> {
    name: Symbol,
    value: Option<T>,
}

impl<T> Attr<T> {
    pub fn none(name: Symbol) -> Self {
        Self { name, value: None }
    }

    pub fn set<S: ToTokens>(&mut self, cx: &mut Ctxt, at: S, value: T) {
        if self.value.is_some() {
            cx.error_spanned_by(at, format!("duplicate instruct attribute `{}`", self.name));
        } else {
            self.value = Some(value);
        }
    }

    pub fn get(self) -> Option<T> {
        self.value
    }
}

/// A number written in an attribute, with its value and its tokens for spans.
#[derive(Clone)]
pub struct Number {
    pub value: f64,
    pub tokens: TokenStream,
}

/// `range(min = .., max = .., exclusive_min = .., exclusive_max = ..)`.
#[derive(Clone, Default)]
pub struct RangeSpec {
    pub min: Option<Number>,
    pub max: Option<Number>,
    pub exclusive_min: Option<Number>,
    pub exclusive_max: Option<Number>,
}

/// `length(min = .., max = ..)` (and `non_empty`, which is `length(min = 1)`).
#[derive(Clone, Default)]
pub struct LengthSpec {
    pub min: Option<(u64, TokenStream)>,
    pub max: Option<(u64, TokenStream)>,
}

/// The literals of `one_of = [...]`, all of one kind.
#[derive(Clone)]
pub enum OneOf {
    Str(Vec<LitStr>),
    Int(Vec<Number>),
    Float(Vec<Number>),
}

/// The validators of a field or of `inner(...)`; the `Span`s mark where each was written.
#[derive(Default, Clone)]
pub struct Validators {
    pub range: Option<(Span, RangeSpec)>,
    pub length: Option<(Span, LengthSpec)>,
    pub pattern: Option<LitStr>,
    pub one_of: Option<(Span, OneOf)>,
    pub non_empty: Option<Span>,
    pub email: Option<Span>,
    pub url: Option<Span>,
    /// `verbatim`: the text must be copied from the call's user messages.
    pub verbatim: Option<Span>,
    pub custom: Option<syn::Path>,
    /// `custom_with_context = path`: like `custom`, with the call's `ValidationContext`.
    pub custom_with_context: Option<syn::Path>,
    pub inner: Option<(Span, Box<Validators>)>,
}

impl Validators {
    /// Where the first validator was written, for errors about all of them.
    pub fn first_span(&self) -> Option<Span> {
        self.range
            .as_ref()
            .map(|r| r.0)
            .or(self.length.as_ref().map(|l| l.0))
            .or(self.pattern.as_ref().map(LitStr::span))
            .or(self.one_of.as_ref().map(|o| o.0))
            .or(self.non_empty)
            .or(self.email)
            .or(self.url)
            .or(self.verbatim)
            .or(self.custom.as_ref().map(syn::spanned::Spanned::span))
            .or(self
                .custom_with_context
                .as_ref()
                .map(syn::spanned::Spanned::span))
            .or(self.inner.as_ref().map(|i| i.0))
    }
}

/// Doc comment pieces, ready for `concat!`.
pub fn docs(attrs: &[syn::Attribute]) -> Vec<TokenStream> {
    let mut pieces = Vec::new();
    for attr in attrs {
        if attr.path() != DOC {
            continue;
        }
        let syn::Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        if !pieces.is_empty() {
            pieces.push(quote!("\n"));
        }
        match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => {
                // `/// text` arrives as " text": drop the one space the comment style adds.
                let text = s.value();
                let text = text
                    .strip_prefix(' ')
                    .unwrap_or(&text)
                    .trim_end()
                    .to_owned();
                pieces.push(quote!(#text));
            }
            // `#[doc = include_str!(...)]` and other macros: concat! expands them.
            other => pieces.push(other.to_token_stream()),
        }
    }
    pieces
}

fn parse_lit_str(meta: &ParseNestedMeta) -> syn::Result<LitStr> {
    let value = meta.value()?;
    let expr: Expr = value.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new_spanned(other, "expected a string literal")),
    }
}

/// A path given bare (`custom = check_age`) or as a string (`custom = "check_age"`).
fn parse_path(meta: &ParseNestedMeta) -> syn::Result<syn::Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        let s: LitStr = value.parse()?;
        s.parse()
    } else {
        value.parse()
    }
}

fn parse_number(expr: &Expr) -> syn::Result<Number> {
    let (negative, lit) = match expr {
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            other => return Err(syn::Error::new_spanned(other, "expected a number")),
        },
        other => return Err(syn::Error::new_spanned(other, "expected a number")),
    };
    let value = match lit {
        Lit::Int(i) => i.base10_parse::<f64>()?,
        Lit::Float(f) => f.base10_parse::<f64>()?,
        other => return Err(syn::Error::new_spanned(other, "expected a number")),
    };
    Ok(Number {
        value: if negative { -value } else { value },
        tokens: expr.to_token_stream(),
    })
}

fn parse_count(meta: &ParseNestedMeta) -> syn::Result<(u64, TokenStream)> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => Ok((i.base10_parse::<u64>()?, expr.to_token_stream())),
        other => Err(syn::Error::new_spanned(
            other,
            "expected a non-negative whole number",
        )),
    }
}

fn parse_range(meta: &ParseNestedMeta, cx: &mut Ctxt) -> syn::Result<RangeSpec> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error("expected `range(min = .., max = ..)`"));
    }
    let mut min = Attr::none(MIN);
    let mut max = Attr::none(MAX);
    let mut exclusive_min = Attr::none(EXCLUSIVE_MIN);
    let mut exclusive_max = Attr::none(EXCLUSIVE_MAX);
    meta.parse_nested_meta(|m| {
        let target = if m.path == MIN {
            &mut min
        } else if m.path == MAX {
            &mut max
        } else if m.path == EXCLUSIVE_MIN {
            &mut exclusive_min
        } else if m.path == EXCLUSIVE_MAX {
            &mut exclusive_max
        } else {
            return Err(m.error(
                "unknown `range` item, expected one of `min`, `max`, `exclusive_min`, `exclusive_max`",
            ));
        };
        let expr: Expr = m.value()?.parse()?;
        let n = parse_number(&expr)?;
        target.set(cx, &m.path, n);
        Ok(())
    })?;
    let spec = RangeSpec {
        min: min.get(),
        max: max.get(),
        exclusive_min: exclusive_min.get(),
        exclusive_max: exclusive_max.get(),
    };
    if spec.min.is_none()
        && spec.max.is_none()
        && spec.exclusive_min.is_none()
        && spec.exclusive_max.is_none()
    {
        return Err(meta.error(
            "`range` needs at least one of `min`, `max`, `exclusive_min`, `exclusive_max`",
        ));
    }
    Ok(spec)
}

fn parse_length(meta: &ParseNestedMeta, cx: &mut Ctxt) -> syn::Result<LengthSpec> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error("expected `length(min = .., max = ..)`"));
    }
    let mut min = Attr::none(MIN);
    let mut max = Attr::none(MAX);
    meta.parse_nested_meta(|m| {
        let target = if m.path == MIN {
            &mut min
        } else if m.path == MAX {
            &mut max
        } else {
            return Err(m.error("unknown `length` item, expected one of `min`, `max`"));
        };
        let n = parse_count(&m)?;
        target.set(cx, &m.path, n);
        Ok(())
    })?;
    let spec = LengthSpec {
        min: min.get(),
        max: max.get(),
    };
    if spec.min.is_none() && spec.max.is_none() {
        return Err(meta.error("`length` needs `min`, `max` or both"));
    }
    Ok(spec)
}

fn parse_one_of(meta: &ParseNestedMeta) -> syn::Result<OneOf> {
    let expr: Expr = meta.value()?.parse()?;
    let Expr::Array(array) = &expr else {
        return Err(syn::Error::new_spanned(
            expr,
            "expected a list of literals: `one_of = [\"a\", \"b\"]`",
        ));
    };
    if array.elems.is_empty() {
        return Err(syn::Error::new_spanned(
            array,
            "`one_of` needs at least one value",
        ));
    }
    let mut strs = Vec::new();
    let mut ints = Vec::new();
    let mut floats = Vec::new();
    for e in &array.elems {
        match e {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => strs.push(s.clone()),
            _ => {
                let n = parse_number(e).map_err(|_| {
                    syn::Error::new_spanned(e, "`one_of` values must be string or number literals")
                })?;
                if n.tokens.to_string().contains('.') {
                    floats.push(n);
                } else {
                    ints.push(n);
                }
            }
        }
    }
    match (strs.is_empty(), ints.is_empty(), floats.is_empty()) {
        (false, true, true) => Ok(OneOf::Str(strs)),
        (true, false, true) => Ok(OneOf::Int(ints)),
        (true, _, false) => Ok(OneOf::Float(ints.into_iter().chain(floats).collect())),
        _ => Err(syn::Error::new_spanned(
            array,
            "`one_of` values must be all strings or all numbers",
        )),
    }
}

/// Sets a validator's slot, or reports the attribute at `path` as given twice.
fn set_once<T>(cx: &mut Ctxt, path: &syn::Path, slot: &mut Option<T>, value: T, name: Symbol) {
    if slot.is_some() {
        cx.error_spanned_by(path, format!("duplicate instruct attribute `{name}`"));
    } else {
        *slot = Some(value);
    }
}

/// Reads one validator item into `v`; returns `Ok(false)` when `meta` is not a validator.
pub fn parse_validator(
    meta: &ParseNestedMeta,
    v: &mut Validators,
    cx: &mut Ctxt,
    allow_inner: bool,
) -> syn::Result<bool> {
    let path = &meta.path;
    let span = syn::spanned::Spanned::span(path);
    if *path == RANGE {
        let spec = parse_range(meta, cx)?;
        set_once(cx, path, &mut v.range, (span, spec), RANGE);
    } else if *path == LENGTH {
        let spec = parse_length(meta, cx)?;
        set_once(cx, path, &mut v.length, (span, spec), LENGTH);
    } else if *path == PATTERN {
        let s = parse_lit_str(meta)?;
        if let Err(e) = regex_syntax::Parser::new().parse(&s.value()) {
            cx.error_spanned_by(&s, format!("invalid regex: {}", first_line(&e.to_string())));
        }
        set_once(cx, path, &mut v.pattern, s, PATTERN);
    } else if *path == ONE_OF {
        let values = parse_one_of(meta)?;
        set_once(cx, path, &mut v.one_of, (span, values), ONE_OF);
    } else if *path == NON_EMPTY || *path == EMAIL || *path == URL || *path == VERBATIM {
        if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            return Err(meta.error(format!(
                "`{}` takes no value",
                path.get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            )));
        }
        let (slot, name) = if *path == NON_EMPTY {
            (&mut v.non_empty, NON_EMPTY)
        } else if *path == EMAIL {
            (&mut v.email, EMAIL)
        } else if *path == URL {
            (&mut v.url, URL)
        } else {
            (&mut v.verbatim, VERBATIM)
        };
        set_once(cx, path, slot, span, name);
    } else if *path == CUSTOM {
        let p = parse_path(meta)?;
        set_once(cx, path, &mut v.custom, p, CUSTOM);
    } else if *path == CUSTOM_WITH_CONTEXT {
        let p = parse_path(meta)?;
        set_once(cx, path, &mut v.custom_with_context, p, CUSTOM_WITH_CONTEXT);
    } else if *path == INNER && allow_inner {
        if !meta.input.peek(syn::token::Paren) {
            return Err(meta.error("expected `inner(...)` with validators for each element"));
        }
        let mut inner = Validators::default();
        meta.parse_nested_meta(|m| {
            if parse_validator(&m, &mut inner, cx, false)? {
                Ok(())
            } else {
                Err(m.error(format!(
                    "unknown `inner` item, expected one of {INNER_ITEMS}"
                )))
            }
        })?;
        set_once(cx, path, &mut v.inner, (span, Box::new(inner)), INNER);
    } else {
        return Ok(false);
    }
    Ok(true)
}

fn first_line(s: &str) -> String {
    // regex-syntax errors draw the pattern over several lines; the last one says why.
    s.lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .map(|l| l.trim_start_matches("error:").trim().to_owned())
        .unwrap_or_else(|| s.lines().next().unwrap_or("").to_owned())
}

/// The text items shared by containers, variants and fields.
#[derive(Default)]
pub struct Described {
    pub description: Option<LitStr>,
    pub examples: Vec<LitStr>,
}

/// Reads `description = ".."` and `example = ".."` (the example checked to be JSON).
pub fn parse_described(
    meta: &ParseNestedMeta,
    d: &mut Described,
    cx: &mut Ctxt,
    examples: bool,
) -> syn::Result<bool> {
    if meta.path == DESCRIPTION {
        let s = parse_lit_str(meta)?;
        if d.description.is_some() {
            cx.error_spanned_by(&meta.path, "duplicate instruct attribute `description`");
        } else {
            d.description = Some(s);
        }
        Ok(true)
    } else if meta.path == EXAMPLE && examples {
        let s = parse_lit_str(meta)?;
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&s.value()) {
            cx.error_spanned_by(&s, format!("`example` must be JSON text: {e}"));
        }
        d.examples.push(s);
        Ok(true)
    } else {
        Ok(false)
    }
}

/// What `#[serde(...)]` says, as far as the schema is concerned.
#[derive(Default)]
pub struct Serde {
    pub rename: Option<String>,
    pub rename_all: Option<RenameRule>,
    pub rename_all_fields: Option<RenameRule>,
    pub tag: Option<String>,
    pub content: Option<String>,
    pub untagged: bool,
    pub transparent: bool,
    pub deny_unknown_fields: bool,
    pub default: bool,
    pub skip: bool,
    pub flatten: bool,
    pub other: bool,
}

/// Reads `#[serde(...)]` leniently: malformed input is serde's to report.
pub fn parse_serde(attrs: &[syn::Attribute]) -> Serde {
    let mut s = Serde::default();
    for attr in attrs.iter().filter(|a| a.path() == SERDE) {
        let _ = attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if *p == RENAME {
                s.rename = deserialize_name(&meta)?;
            } else if *p == RENAME_ALL {
                s.rename_all = deserialize_name(&meta)?.and_then(|n| RenameRule::from_str(&n));
            } else if *p == RENAME_ALL_FIELDS {
                s.rename_all_fields =
                    deserialize_name(&meta)?.and_then(|n| RenameRule::from_str(&n));
            } else if *p == TAG {
                s.tag = Some(parse_lit_str(&meta)?.value());
            } else if *p == CONTENT {
                s.content = Some(parse_lit_str(&meta)?.value());
            } else if *p == UNTAGGED {
                s.untagged = true;
            } else if *p == TRANSPARENT {
                s.transparent = true;
            } else if *p == DENY_UNKNOWN_FIELDS {
                s.deny_unknown_fields = true;
            } else if *p == DEFAULT {
                s.default = true;
                skip_value(&meta)?;
            } else if *p == SKIP || *p == SKIP_DESERIALIZING {
                s.skip = true;
            } else if *p == FLATTEN {
                s.flatten = true;
            } else if *p == OTHER {
                s.other = true;
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        });
    }
    s
}

/// The deserialize-side name of `rename = ".."` or `rename(deserialize = "..")`.
fn deserialize_name(meta: &ParseNestedMeta) -> syn::Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(parse_lit_str(meta)?.value()));
    }
    let mut name = None;
    meta.parse_nested_meta(|m| {
        if m.path == DESERIALIZE {
            name = Some(parse_lit_str(&m)?.value());
        } else {
            skip_value(&m)?;
        }
        Ok(())
    })?;
    Ok(name)
}

fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|m| skip_value(&m))?;
    }
    Ok(())
}
