//! How the answer is asked for: the [`Mode`]s.

use std::fmt;

/// How an extraction asks the model for structured output and where it reads the answer.
/// A provider chooses its native request shape for a mode (e.g. llama-cpp-python's
/// `json_object` + `schema` for [`Mode::JsonSchema`]); it does not add modes.
///
/// ```
/// use instructor_core::Mode;
/// assert_eq!(Mode::JsonSchema.to_string(), "json_schema");
/// assert!(Mode::ParallelTools.uses_tools());
/// assert!(!Mode::MdJson.uses_tools());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Mode {
    /// One function tool built from the type, forced; the answer is its arguments.
    Tools,
    /// [`Mode::Tools`] with `strict: true` and the strict schema dialect.
    ToolsStrict,
    /// JSON output (`response_format: json_object`), the schema given in the prompt.
    Json,
    /// The server enforces the schema (`json_schema`, or the provider's equivalent).
    JsonSchema,
    /// The schema in the prompt, the answer asked for in a fenced ```json block.
    MdJson,
    /// Several tools, several calls allowed; each call parsed into its own type.
    ParallelTools,
    /// Local constrained decoding: sampling follows a grammar compiled from the schema.
    Grammar,
}

impl Mode {
    /// Every mode.
    ///
    /// ```
    /// assert_eq!(instructor_core::Mode::ALL.len(), 7);
    /// ```
    pub const ALL: &'static [Mode] = &[
        Mode::Tools,
        Mode::ToolsStrict,
        Mode::Json,
        Mode::JsonSchema,
        Mode::MdJson,
        Mode::ParallelTools,
        Mode::Grammar,
    ];

    /// The mode's name in snake case.
    ///
    /// ```
    /// assert_eq!(instructor_core::Mode::ToolsStrict.as_str(), "tools_strict");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Tools => "tools",
            Mode::ToolsStrict => "tools_strict",
            Mode::Json => "json",
            Mode::JsonSchema => "json_schema",
            Mode::MdJson => "md_json",
            Mode::ParallelTools => "parallel_tools",
            Mode::Grammar => "grammar",
        }
    }

    /// Whether the answer comes back as tool calls.
    ///
    /// ```
    /// assert!(instructor_core::Mode::Tools.uses_tools());
    /// ```
    pub fn uses_tools(self) -> bool {
        matches!(self, Mode::Tools | Mode::ToolsStrict | Mode::ParallelTools)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
