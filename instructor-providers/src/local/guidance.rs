//! llguidance as the constraint engine: the tokenizer environment and parser factory are
//! built once per model, a schema's grammar once per schema (each call gets a copy of its
//! ready matcher). The environment tokenizes with the model's own tokenizer, so the tokens
//! the grammar forces come out as the model would write them and can be appended without
//! sampling (fast-forward).

use std::collections::HashMap;
use std::sync::Arc;

use instructor_core::Error;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llguidance::api::TopLevelGrammar;
use llguidance::{Matcher, ParserFactory};
use toktrie::{InferenceCapabilities, TokEnv, TokTrie, TokenId, TokenizerEnv};

/// The model's vocabulary as llguidance sees it, tokenizing with the model's tokenizer.
struct ModelTokenizer {
    model: Arc<LlamaModel>,
    trie: TokTrie,
}

impl TokenizerEnv for ModelTokenizer {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.model
            .vocab()
            .tokenize(s, false, false)
            .into_iter()
            .map(|t| t.0.cast_unsigned())
            .collect()
    }

    fn tokenize_is_canonical(&self) -> bool {
        true
    }
}

/// Holds a schema to what a small model must not stray from, as the GBNF compiler does: an
/// object has only the properties it lists (JSON Schema allows others unless told not to,
/// and a base model invents them), and a number without bounds at most 18 integer digits
/// (16 with a fraction), so it cannot run on until the token limit. `uniqueItems`, which no
/// grammar holds, is left to the check after parsing (the derive's sets, a runtime
/// schema's validator); every other keyword llguidance does not implement is an error.
fn tighten(schema: &mut serde_json::Value) {
    use serde_json::Value;
    match schema {
        Value::Object(map) => {
            if map.contains_key("items") || map.get("type") == Some(&Value::from("array")) {
                map.shift_remove("uniqueItems");
            }
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            let bound = match map.get("type").and_then(Value::as_str) {
                Some("integer") => Some(999_999_999_999_999_999.0),
                Some("number") => Some(9_999_999_999_999_999.0),
                _ => None,
            };
            if let Some(bound) = bound {
                if !map.contains_key("maximum") && !map.contains_key("exclusiveMaximum") {
                    map.insert("maximum".to_owned(), serde_json::json!(bound));
                }
                if !map.contains_key("minimum") && !map.contains_key("exclusiveMinimum") {
                    map.insert("minimum".to_owned(), serde_json::json!(-bound));
                }
            }
            for value in map.values_mut() {
                tighten(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tighten),
        _ => {}
    }
}

/// How the JSON is laid out: one space after `:` and `,`, none elsewhere (a base model
/// otherwise fills free whitespace until the token limit), keys in the schema's order; and
/// llguidance's lenient mode: a keyword it does not implement (`not`, `if`/`then`,
/// `dependencies`, an unknown `format`; `oneOf` is held as `anyOf`) loosens the grammar, and
/// is logged by name when the schema is compiled. The loosened grammar allows more than the
/// schema, never less, and every answer is still checked against the whole schema after
/// parsing (the derive's validators, a runtime schema's `jsonschema` check), so what it lets
/// through is re-asked. A schema llguidance cannot compile at all is a typed error.
pub(crate) fn with_layout(schema: &serde_json::Value) -> serde_json::Value {
    let mut schema = schema.clone();
    tighten(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "x-guidance".to_owned(),
            serde_json::json!({
                "whitespace_flexible": false,
                "key_separator": ": ",
                "item_separator": ", ",
                "lenient": true,
            }),
        );
    }
    schema
}

/// The parser factory of one model and the matchers of the schemas seen.
pub(crate) struct Guidance {
    factory: ParserFactory,
    ready: HashMap<Arc<str>, Matcher>,
}

impl Guidance {
    /// Walks the model's vocabulary once (a few hundred milliseconds for 262k tokens).
    pub fn new(model: &Arc<LlamaModel>) -> Result<Self, Error> {
        let approximate = LlamaSampler::llguidance_tok_env(model);
        let env: TokEnv = Arc::new(ModelTokenizer {
            model: Arc::clone(model),
            trie: approximate.tok_trie().clone(),
        });
        let caps = InferenceCapabilities {
            ff_tokens: true,
            ..InferenceCapabilities::default()
        };
        let factory = ParserFactory::new(
            &env,
            caps,
            &llguidance::earley::SlicedBiasComputer::general_slices(),
        )
        .map_err(|e| Error::Backend {
            message: format!("llguidance: {e}"),
            source: None,
        })?;
        Ok(Self {
            factory,
            ready: HashMap::new(),
        })
    }

    /// A fresh matcher for `schema` from the model's guidance in `slot`, built there first
    /// if this is the model's first schema.
    pub fn matcher_in(
        slot: &mut Option<Guidance>,
        model: &Arc<LlamaModel>,
        schema: &Arc<str>,
    ) -> Result<Matcher, Error> {
        let guidance = match slot {
            Some(g) => g,
            None => slot.insert(Guidance::new(model)?),
        };
        guidance.matcher(schema)
    }

    /// A fresh matcher for `schema` (JSON text), its grammar compiled the first time only.
    pub fn matcher(&mut self, schema: &Arc<str>) -> Result<Matcher, Error> {
        if let Some(m) = self.ready.get(schema) {
            return Ok(m.deep_clone());
        }
        let value: serde_json::Value =
            serde_json::from_str(schema).map_err(|e| Error::SchemaIncompatible {
                message: format!("the schema is not JSON: {e}"),
            })?;
        let mut matcher = self.compile(TopLevelGrammar::from_json_schema(with_layout(&value)))?;
        for warning in matcher.grammar_warnings() {
            tracing::warn!(%warning, "the local grammar does not hold this part of the schema; answers are checked against it after parsing");
        }
        let copy = matcher.deep_clone();
        self.ready.insert(Arc::clone(schema), matcher);
        Ok(copy)
    }

    /// A matcher for a Lark grammar written for one call (a verbatim field's source texts),
    /// compiled each time.
    pub fn lark_matcher_in(
        slot: &mut Option<Guidance>,
        model: &Arc<LlamaModel>,
        lark: &str,
    ) -> Result<Matcher, Error> {
        let guidance = match slot {
            Some(g) => g,
            None => slot.insert(Guidance::new(model)?),
        };
        guidance.compile(TopLevelGrammar::from_lark(lark.to_owned()))
    }

    fn compile(&self, grammar: TopLevelGrammar) -> Result<Matcher, Error> {
        let parser =
            self.factory
                .create_parser(grammar)
                .map_err(|e| Error::SchemaIncompatible {
                    message: format!("llguidance cannot compile the schema: {e}"),
                })?;
        let matcher = Matcher::new(Ok(parser));
        match matcher.get_error() {
            Some(e) => Err(Error::SchemaIncompatible {
                message: format!("llguidance cannot compile the schema: {e}"),
            }),
            None => Ok(matcher),
        }
    }
}
