use std::collections::BTreeMap;

use instructor::{Instruct, ValidationContext, ValidationError, ValidationErrors};
use serde::Deserialize;

struct Glossary(Vec<String>);

fn in_glossary(term: &String, ctx: &ValidationContext<'_>) -> Result<(), String> {
    match ctx.value::<Glossary>() {
        Some(g) if !g.0.contains(term) => Err(format!("{term:?} is not in the glossary")),
        _ => Ok(()),
    }
}

fn mentioned(n: &u32, ctx: &ValidationContext<'_>) -> Result<(), &'static str> {
    if ctx.user_text().contains(&n.to_string()) {
        Ok(())
    } else {
        Err("this number is not in the text")
    }
}

fn whole(d: &Definition, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if !ctx.is_verbatim(&d.term) {
        errors.add(ValidationError::new("/term", "not in the text"));
    }
    errors.into_result()
}

fn plain(_: &Definition) -> Result<(), String> {
    Ok(())
}

#[derive(Instruct, Deserialize)]
#[instruct(validate = plain, validate_with_context = whole)]
struct Definition {
    #[instruct(verbatim, custom_with_context = in_glossary, length(max = 40))]
    term: String,
    #[instruct(verbatim)]
    source: Option<String>,
    #[instruct(verbatim, description = "Sentences copied from the text")]
    evidence: Vec<String>,
    #[instruct(inner(verbatim, custom_with_context = in_glossary))]
    related: Option<Vec<String>>,
    #[instruct(inner(verbatim))]
    labels: BTreeMap<String, String>,
    #[instruct(custom_with_context = mentioned)]
    page: u32,
    #[instruct(verbatim)]
    nested: Vec<Option<String>>,
}

#[derive(Instruct, Deserialize)]
enum Finding {
    Quote {
        #[instruct(verbatim)]
        text: String,
    },
    Count(#[instruct(custom_with_context = mentioned)] u32),
}

#[derive(Instruct, Deserialize)]
struct Excerpt(#[instruct(verbatim)] String);

#[derive(Instruct, Deserialize)]
struct Page<T> {
    items: Vec<T>,
    #[instruct(verbatim)]
    heading: String,
}

fn main() {
    let _ = Definition::json_schema();
    let _ = Finding::json_schema();
    let _ = Excerpt::json_schema();
    let _ = Page::<Excerpt>::json_schema();
}
