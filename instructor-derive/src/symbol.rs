//! Every attribute keyword the derive reads, in one place.

use std::fmt;

#[derive(Copy, Clone)]
pub struct Symbol(pub &'static str);

macro_rules! symbols {
    ($($name:ident = $text:literal,)*) => {
        $(pub const $name: Symbol = Symbol($text);)*
    };
}

symbols! {
    INSTRUCT = "instruct",
    SERDE = "serde",
    DOC = "doc",
    // container
    DESCRIPTION = "description",
    TITLE = "title",
    NAME = "name",
    EXAMPLE = "example",
    STRICT = "strict",
    CRATE = "crate",
    VALIDATE = "validate",
    VALIDATE_WITH_CONTEXT = "validate_with_context",
    // field validators
    RANGE = "range",
    LENGTH = "length",
    PATTERN = "pattern",
    ONE_OF = "one_of",
    NON_EMPTY = "non_empty",
    EMAIL = "email",
    URL = "url",
    CUSTOM = "custom",
    CUSTOM_WITH_CONTEXT = "custom_with_context",
    VERBATIM = "verbatim",
    INNER = "inner",
    MIN = "min",
    MAX = "max",
    EXCLUSIVE_MIN = "exclusive_min",
    EXCLUSIVE_MAX = "exclusive_max",
    // serde
    RENAME = "rename",
    RENAME_ALL = "rename_all",
    RENAME_ALL_FIELDS = "rename_all_fields",
    DESERIALIZE = "deserialize",
    SKIP = "skip",
    SKIP_DESERIALIZING = "skip_deserializing",
    DEFAULT = "default",
    FLATTEN = "flatten",
    TAG = "tag",
    CONTENT = "content",
    UNTAGGED = "untagged",
    TRANSPARENT = "transparent",
    DENY_UNKNOWN_FIELDS = "deny_unknown_fields",
    OTHER = "other",
}

/// The container items of `#[instruct(...)]`, for "expected one of" messages.
pub const CONTAINER_ITEMS: &str = "`description`, `title`, `name`, `example`, `strict`, `crate`, `validate`, `validate_with_context`";
/// The field items of `#[instruct(...)]`.
pub const FIELD_ITEMS: &str = "`description`, `example`, `range`, `length`, `pattern`, `one_of`, `non_empty`, `email`, `url`, `verbatim`, `custom`, `custom_with_context`, `inner`";
/// The items of `inner(...)`.
pub const INNER_ITEMS: &str = "`range`, `length`, `pattern`, `one_of`, `non_empty`, `email`, `url`, `verbatim`, `custom`, `custom_with_context`";
/// The variant items of `#[instruct(...)]`.
pub const VARIANT_ITEMS: &str = "`description`";

impl PartialEq<Symbol> for syn::Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &syn::Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for syn::Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &syn::Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
