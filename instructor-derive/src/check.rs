//! Checks across attributes, on the intermediate form: bounds that contradict each other,
//! validators that can never run, combinations that make no sense. Type-dependent checks
//! (a `range` on a `String`) are left to the trait bounds the generated code carries, so
//! they point at the field's type.

use crate::ast::{Container, Data, Field, Style};
use crate::attr::Validators;
use crate::ctxt::Ctxt;

pub fn check(cx: &mut Ctxt, cont: &Container) {
    for field in cont.all_fields() {
        check_field(cx, field);
    }
    if let Data::Enum(variants) = &cont.data {
        if variants.is_empty() {
            cx.error_spanned_by(
                cont.ident,
                "an enum without variants has no value a model could produce",
            );
        }
        for v in variants {
            if v.serde.skip && !v.text.examples.is_empty() {
                cx.error_spanned_by(v.ident, "a skipped variant cannot have examples");
            }
        }
    }
    let has_tuple = match &cont.data {
        Data::Struct(Style::Tuple, _) => true,
        Data::Enum(vs) => vs.iter().any(|v| v.style == Style::Tuple && !v.serde.skip),
        _ => false,
    };
    if let (Some(span), true) = (cont.attrs.strict, has_tuple) {
        cx.syn_error(syn::Error::new(
            span,
            "`strict`: OpenAI strict mode has no tuples (`prefixItems`); use named fields",
        ));
    }
    if let (Some(span), Data::Struct(Style::Unit, _)) = (cont.attrs.strict, &cont.data) {
        cx.syn_error(syn::Error::new(
            span,
            "`strict` needs fields: a unit struct has nothing to extract",
        ));
    }
}

fn check_field(cx: &mut Ctxt, field: &Field) {
    let v = &field.validators;
    if field.serde.skip {
        if let Some(span) = v.first_span() {
            cx.syn_error(syn::Error::new(
                span,
                "this field is skipped by serde, so a validator on it would never run",
            ));
        }
        return;
    }
    if field.serde.flatten {
        if let Some(span) = v.first_span() {
            cx.syn_error(syn::Error::new(
                span,
                "validators on a flattened field are not supported; put them on the fields of the flattened type",
            ));
        }
    }
    check_validators(cx, v);
    if let Some((_, inner)) = &v.inner {
        check_validators(cx, inner);
        if let (Some(_), Some(span)) = (v.verbatim, inner.verbatim) {
            cx.syn_error(syn::Error::new(
                span,
                "`verbatim` on the field already checks every string in it; drop `inner(verbatim)`",
            ));
        }
    }
}

fn check_validators(cx: &mut Ctxt, v: &Validators) {
    if let Some((span, range)) = &v.range {
        let lower = range.min.as_ref().or(range.exclusive_min.as_ref());
        let upper = range.max.as_ref().or(range.exclusive_max.as_ref());
        if let (Some(lo), Some(hi)) = (lower, upper) {
            let exclusive = range.exclusive_min.is_some() || range.exclusive_max.is_some();
            if lo.value > hi.value || (exclusive && lo.value >= hi.value) {
                cx.error_spanned_by(
                    &hi.tokens,
                    format!(
                        "`range` is empty: the lower bound {} is not below the upper bound {}",
                        lo.value, hi.value
                    ),
                );
            }
        }
        if range.min.is_some() && range.exclusive_min.is_some() {
            cx.syn_error(syn::Error::new(
                *span,
                "give `min` or `exclusive_min`, not both",
            ));
        }
        if range.max.is_some() && range.exclusive_max.is_some() {
            cx.syn_error(syn::Error::new(
                *span,
                "give `max` or `exclusive_max`, not both",
            ));
        }
    }
    if let Some((_, length)) = &v.length {
        if let (Some((lo, _)), Some((hi, hi_tokens))) = (&length.min, &length.max) {
            if lo > hi {
                cx.error_spanned_by(
                    hi_tokens,
                    format!("`length` is empty: `min = {lo}` is greater than `max = {hi}`"),
                );
            }
        }
        if let (Some(span), Some(_)) = (v.non_empty, &length.min) {
            cx.syn_error(syn::Error::new(
                span,
                "`non_empty` is `length(min = 1)`; give one or the other",
            ));
        }
    }
    if let (Some(_), Some(url)) = (v.email, v.url) {
        cx.syn_error(syn::Error::new(
            url,
            "a value cannot be both an email address and a URL",
        ));
    }
}
