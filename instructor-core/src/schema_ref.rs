//! How a request refers to its target's schema: a type's schema, built once and kept for
//! the life of the process (`&'static`), or a schema made at run time and shared by the
//! calls that use it (`Arc`), dropped with its last user. Both read as a [`TypeSchema`].

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, RwLock};

use crate::{ToolSpec, TypeSchema};

/// A reference to the [`TypeSchema`] a request asks for; it derefs to it, so
/// `output.schema.request_schema` reads the same whichever kind it is. Cloning is a copy
/// of a pointer (a derived type's schema) or of an `Arc` (a runtime schema).
///
/// ```
/// use instructor_core::{provider::SchemaRef, Instruct};
/// let schema = SchemaRef::from(<Vec<String> as Instruct>::type_schema());
/// assert_eq!(schema.wrapped, Some("items"));
/// assert!(schema.as_static().is_some());
/// ```
#[derive(Clone)]
pub struct SchemaRef(Kind);

#[derive(Clone)]
enum Kind {
    Static(&'static TypeSchema),
    Shared(Arc<TypeSchema>),
}

impl SchemaRef {
    /// The schema when it lives for the whole process (a type's schema), which lets
    /// callers key process-wide caches by its address; `None` for a runtime schema, whose
    /// per-schema cache is [`TypeSchema::runtime_cache`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::{provider::SchemaRef, TypeSchema};
    /// let shared = SchemaRef::from(Arc::new(TypeSchema::build::<bool>()));
    /// assert!(shared.as_static().is_none());
    /// ```
    pub fn as_static(&self) -> Option<&'static TypeSchema> {
        match &self.0 {
            Kind::Static(s) => Some(s),
            Kind::Shared(_) => None,
        }
    }

    pub(crate) fn shared(&self) -> Option<&Arc<TypeSchema>> {
        match &self.0 {
            Kind::Static(_) => None,
            Kind::Shared(s) => Some(s),
        }
    }
}

impl Deref for SchemaRef {
    type Target = TypeSchema;
    fn deref(&self) -> &TypeSchema {
        match &self.0 {
            Kind::Static(s) => s,
            Kind::Shared(s) => s,
        }
    }
}

impl From<&'static TypeSchema> for SchemaRef {
    fn from(schema: &'static TypeSchema) -> Self {
        Self(Kind::Static(schema))
    }
}

impl From<Arc<TypeSchema>> for SchemaRef {
    fn from(schema: Arc<TypeSchema>) -> Self {
        Self(Kind::Shared(schema))
    }
}

impl fmt::Debug for SchemaRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// The tools a request offers, read as a slice of [`ToolSpec`]s (one for
/// [`Mode::Tools`](crate::Mode::Tools), several for
/// [`Mode::ParallelTools`](crate::Mode::ParallelTools), none otherwise). They live in the
/// schema they were planned from.
///
/// ```
/// use instructor_core::{provider::OutputSpec, Instruct, Mode};
/// let output = OutputSpec::new(Mode::Tools, <Vec<String> as Instruct>::type_schema()).unwrap();
/// assert_eq!(output.tools.len(), 1);
/// assert_eq!(output.tools[0].name, "Vec_String");
/// ```
#[derive(Clone)]
pub struct ToolSet(Tools);

#[derive(Clone)]
enum Tools {
    Static(&'static [ToolSpec]),
    /// The schema's one tool, or (`parallel`) its parallel tool set, planned already.
    Shared {
        schema: Arc<TypeSchema>,
        parallel: bool,
    },
}

impl ToolSet {
    pub(crate) fn fixed(tools: &'static [ToolSpec]) -> Self {
        Self(Tools::Static(tools))
    }

    pub(crate) fn of(schema: Arc<TypeSchema>, parallel: bool) -> Self {
        Self(Tools::Shared { schema, parallel })
    }
}

impl Deref for ToolSet {
    type Target = [ToolSpec];
    fn deref(&self) -> &[ToolSpec] {
        match &self.0 {
            Tools::Static(tools) => tools,
            Tools::Shared {
                schema,
                parallel: false,
            } => std::slice::from_ref(&schema.tool),
            // Planning checked the set exists before this was made.
            Tools::Shared {
                schema,
                parallel: true,
            } => match schema.fragments.parallel.get() {
                Some(Ok(set)) => &set.tools,
                _ => &[],
            },
        }
    }
}

impl fmt::Debug for ToolSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl serde::Serialize for ToolSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

type Entries = HashMap<(usize, &'static str), Arc<dyn Any + Send + Sync>>;

/// What providers build from a runtime schema (request fragments, a compiled grammar),
/// kept with the schema and dropped with it. Entries are keyed by the address of what they
/// were built from (the schema, one of its tool sets), which is stable and unique while the
/// schema lives, and a tag naming the provider and shape. A clone of a schema starts empty.
///
/// ```
/// use instructor_core::TypeSchema;
/// let schema = TypeSchema::build::<bool>();
/// let cache = schema.runtime_cache();
/// let a = cache.get_or_build(&schema, "demo", || 41 + 1);
/// let b = cache.get_or_build(&schema, "demo", || 0);
/// assert_eq!((*a, *b), (42, 42));
/// ```
#[derive(Default)]
pub struct RuntimeCache {
    entries: RwLock<Entries>,
}

impl RuntimeCache {
    /// The entry built from `owner` under `tag`, built by `build` the first time (or when
    /// the entry there has another type).
    ///
    /// ```
    /// let schema = instructor_core::TypeSchema::build::<u8>();
    /// let text = schema.runtime_cache().get_or_build(&schema.tool, "name", || schema.tool.name.clone());
    /// assert_eq!(*text, "u8");
    /// ```
    pub fn get_or_build<O: ?Sized, V: Any + Send + Sync>(
        &self,
        owner: &O,
        tag: &'static str,
        build: impl FnOnce() -> V,
    ) -> Arc<V> {
        let key = (owner as *const O as *const () as usize, tag);
        let found = self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        if let Some(Ok(v)) = found.map(|e| e.downcast::<V>()) {
            return v;
        }
        let built = Arc::new(build());
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, built.clone());
        built
    }
}

impl Clone for RuntimeCache {
    /// Empty: the entries' keys are addresses inside the original schema.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl fmt::Debug for RuntimeCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.entries.read().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("RuntimeCache").field("entries", &n).finish()
    }
}
