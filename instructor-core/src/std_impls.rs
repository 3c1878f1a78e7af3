//! [`Instruct`] for the standard types, so derived types compose with them: numbers carry
//! their type's range, collections their element schema and validation, `Option` is
//! nullable and not required. Containers validate what they hold with the call's context
//! ([`Instruct::validate_in`]); their context-free `validate_at` is the same with
//! [`ValidationContext::empty`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::schema::{nullable, SchemaGenerator};
use crate::validation::ValidationContext;
use crate::{Instruct, JsonPointer, ValidationErrors};

/// A scalar's partial form: the value once it is complete and of the right type.
fn complete<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

/// A list's partial form: every element that has arrived far enough to show.
fn elements<T: Instruct>(value: &Value) -> Option<Vec<T::Partial>> {
    Some(
        value
            .as_array()?
            .iter()
            .filter_map(T::partial_from)
            .collect(),
    )
}

/// A map's partial form: every entry far enough to show.
fn entries<T: Instruct>(value: &Value) -> Option<BTreeMap<String, T::Partial>> {
    Some(
        value
            .as_object()?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), T::partial_from(v)?)))
            .collect(),
    )
}

const MAP_NOT_STRICT: &str = "a map (HashMap/BTreeMap) has no fixed property names, and OpenAI strict mode needs every property declared; use a Vec of key/value structs instead";
const VALUE_NOT_STRICT: &str =
    "serde_json::Value accepts any JSON, and OpenAI strict mode needs a fixed schema";

macro_rules! simple {
    ($($t:ty => $name:expr, $schema:tt;)*) => {$(
        impl Instruct for $t {
            const NAME: &'static str = $name;
            type Partial = Self;
            fn partial_from(value: &Value) -> Option<Self> {
                complete(value)
            }
            fn schema(_: &mut SchemaGenerator) -> Value {
                json!($schema)
            }
        }
    )*};
}
simple! {
    f32 => "f32", {"type": "number"};
    f64 => "f64", {"type": "number"};
    bool => "bool", {"type": "boolean"};
    String => "String", {"type": "string"};
    char => "char", {"type": "string", "minLength": 1, "maxLength": 1};
    () => "unit", {"type": "null"};
    // The 128-bit integers carry no range (`u128` only its sign).
    i128 => "i128", {"type": "integer"};
    u128 => "u128", {"type": "integer", "minimum": 0};
}

/// The integers of 64 bits or fewer, with their type's range.
macro_rules! integer {
    ($($t:ty),*) => {$(
        simple! { $t => stringify!($t), {"type": "integer", "minimum": <$t>::MIN, "maximum": <$t>::MAX}; }
    )*};
}
integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Instruct for Value {
    const NAME: &'static str = "Value";
    type Partial = Value;
    fn partial_from(value: &Value) -> Option<Value> {
        Some(value.clone())
    }
    const STRICT_INCOMPATIBLE: Option<&'static str> = Some(VALUE_NOT_STRICT);
    fn schema(_: &mut SchemaGenerator) -> Value {
        json!({})
    }
}

/// A container's validators: `validate_in` runs the closure-like body with the value, the
/// call's context, the path and the errors; `validate_at` is `validate_in` with
/// [`ValidationContext::empty`].
macro_rules! validate_in_context {
    (|$this:ident, $context:ident, $path:ident, $errors:ident| $body:block) => {
        fn validate_at(&self, path: &mut JsonPointer, errors: &mut ValidationErrors) {
            self.validate_in(&ValidationContext::empty(), path, errors);
        }
        fn validate_in(
            &self,
            $context: &ValidationContext<'_>,
            $path: &mut JsonPointer,
            $errors: &mut ValidationErrors,
        ) {
            let $this = self;
            $body
        }
    };
}
pub(crate) use validate_in_context;

/// The validators of a collection: each element, with the call's context, at the place
/// [`Place`] gives it under the collection's path. The tokens given turn `self.iter()` into
/// `(place, element)` pairs.
macro_rules! validate_elements {
    ($($places:tt)*) => {
        validate_in_context!(|this, context, path, errors| {
            validate_placed(this.iter()$($places)*, context, path, errors);
        });
    };
}

impl<T: Instruct> Instruct for Option<T> {
    const NAME: &'static str = "Option";
    type Partial = T::Partial;
    fn partial_from(value: &Value) -> Option<T::Partial> {
        if value.is_null() {
            None
        } else {
            T::partial_from(value)
        }
    }
    const OPTIONAL: bool = true;
    const STRICT_INCOMPATIBLE: Option<&'static str> = T::STRICT_INCOMPATIBLE;
    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("Option_{}", T::schema_name()))
    }
    fn schema(generator: &mut SchemaGenerator) -> Value {
        nullable(generator.subschema::<T>())
    }
    // The value, if any, at the option's own path.
    validate_elements!(.map(|value| ((), value)));
}

macro_rules! pointer {
    ($($p:ident),*) => {$(
        impl<T: Instruct> Instruct for $p<T> {
            const NAME: &'static str = T::NAME;
            // Boxed, so a recursive type's partial form stays finite.
            type Partial = Box<T::Partial>;
            fn partial_from(value: &Value) -> Option<Self::Partial> {
                T::partial_from(value).map(Box::new)
            }
            const DESCRIPTION: Option<&'static str> = T::DESCRIPTION;
            const OPTIONAL: bool = T::OPTIONAL;
            const STRICT_INCOMPATIBLE: Option<&'static str> = T::STRICT_INCOMPATIBLE;
            fn schema_name() -> Cow<'static, str> {
                T::schema_name()
            }
            fn schema(generator: &mut SchemaGenerator) -> Value {
                generator.subschema::<T>()
            }
            fn validate_at(&self, path: &mut JsonPointer, errors: &mut ValidationErrors) {
                (**self).validate_at(path, errors);
            }
            fn validate_in(
                &self,
                context: &ValidationContext<'_>,
                path: &mut JsonPointer,
                errors: &mut ValidationErrors,
            ) {
                (**self).validate_in(context, path, errors);
            }
        }
    )*};
}
pointer!(Box, Arc, Rc);

/// Where an element sits under its collection's path: at the path itself (`()`, an
/// `Option`'s value), at its index or under its key.
trait Place {
    /// Adds the place to `path`; whether it added anything (to take off again).
    fn push_onto(self, path: &mut JsonPointer) -> bool;
}

impl Place for () {
    fn push_onto(self, _: &mut JsonPointer) -> bool {
        false
    }
}

impl Place for usize {
    fn push_onto(self, path: &mut JsonPointer) -> bool {
        path.push_index(self);
        true
    }
}

impl Place for &String {
    fn push_onto(self, path: &mut JsonPointer) -> bool {
        path.push_key(self);
        true
    }
}

/// Validates each element at its place under `path`.
fn validate_placed<'a, P: Place, T: Instruct + 'a>(
    elements: impl Iterator<Item = (P, &'a T)>,
    context: &ValidationContext<'_>,
    path: &mut JsonPointer,
    errors: &mut ValidationErrors,
) {
    for (place, element) in elements {
        let pushed = place.push_onto(path);
        element.validate_in(context, path, errors);
        if pushed {
            path.pop();
        }
    }
}

/// The members every list-like impl shares: partials are lists of the elements' partials,
/// strictness is the element's, and each element is validated at its index.
macro_rules! sequence_members {
    ($name:literal) => {
        const NAME: &'static str = $name;
        type Partial = Vec<T::Partial>;
        fn partial_from(value: &Value) -> Option<Self::Partial> {
            elements::<T>(value)
        }
        const STRICT_INCOMPATIBLE: Option<&'static str> = T::STRICT_INCOMPATIBLE;
        validate_elements!(.enumerate());
    };
}

macro_rules! sequence {
    ($($name:literal: $t:ty, bounds = [$($bound:path),*], unique = $unique:literal;)*) => {$(
        impl<T: Instruct $(+ $bound)*> Instruct for $t {
            sequence_members!($name);
            fn schema_name() -> Cow<'static, str> {
                Cow::Owned(format!(concat!($name, "_{}"), T::schema_name()))
            }
            fn schema(generator: &mut SchemaGenerator) -> Value {
                let items = generator.subschema::<T>();
                if $unique {
                    json!({"type": "array", "items": items, "uniqueItems": true})
                } else {
                    json!({"type": "array", "items": items})
                }
            }
        }
    )*};
}
sequence! {
    "Vec": Vec<T>, bounds = [], unique = false;
    "VecDeque": VecDeque<T>, bounds = [], unique = false;
    "BTreeSet": BTreeSet<T>, bounds = [Ord], unique = true;
}

impl<T: Instruct + Eq + Hash, S: BuildHasher + Default + 'static> Instruct for HashSet<T, S> {
    sequence_members!("HashSet");
    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("HashSet_{}", T::schema_name()))
    }
    fn schema(generator: &mut SchemaGenerator) -> Value {
        json!({"type": "array", "items": generator.subschema::<T>(), "uniqueItems": true})
    }
}

impl<T: Instruct, const N: usize> Instruct for [T; N]
where
    [T; N]: serde::de::DeserializeOwned,
{
    sequence_members!("Array");
    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("Array{N}_{}", T::schema_name()))
    }
    fn schema(generator: &mut SchemaGenerator) -> Value {
        json!({"type": "array", "items": generator.subschema::<T>(), "minItems": N, "maxItems": N})
    }
}

/// The members of a string-keyed map's `Instruct` impl: an object whose values are `T`.
macro_rules! map_members {
    ($name:literal) => {
        const NAME: &'static str = $name;
        type Partial = BTreeMap<String, T::Partial>;
        fn partial_from(value: &Value) -> Option<Self::Partial> {
            entries::<T>(value)
        }
        const STRICT_INCOMPATIBLE: Option<&'static str> = Some(MAP_NOT_STRICT);
        fn schema_name() -> Cow<'static, str> {
            Cow::Owned(format!("Map_{}", T::schema_name()))
        }
        fn schema(generator: &mut SchemaGenerator) -> Value {
            json!({"type": "object", "additionalProperties": generator.subschema::<T>()})
        }
        validate_elements!();
    };
}

impl<T: Instruct, S: BuildHasher + Default + 'static> Instruct for HashMap<String, T, S> {
    map_members!("HashMap");
}

impl<T: Instruct> Instruct for BTreeMap<String, T> {
    map_members!("BTreeMap");
}

macro_rules! tuple {
    ($($name:ident . $idx:tt),+) => {
        impl<$($name: Instruct),+> Instruct for ($($name,)+) {
            const NAME: &'static str = "Tuple";
            type Partial = crate::partial::Complete<Self>;
            fn partial_from(value: &Value) -> Option<Self::Partial> {
                crate::partial::complete(value)
            }
            const STRICT_INCOMPATIBLE: Option<&'static str> =
                Some("tuples need `prefixItems`, which OpenAI strict mode does not support; use a struct");
            fn schema(generator: &mut SchemaGenerator) -> Value {
                let items = vec![$(generator.subschema::<$name>()),+];
                let n = items.len();
                json!({"type": "array", "prefixItems": items, "items": false, "minItems": n, "maxItems": n})
            }
            validate_in_context!(|this, context, path, errors| {
                $(
                    path.push_index($idx);
                    this.$idx.validate_in(context, path, errors);
                    path.pop();
                )+
            });
        }
    };
}
tuple!(A.0, B.1);
tuple!(A.0, B.1, C.2);
tuple!(A.0, B.1, C.2, D.3);
