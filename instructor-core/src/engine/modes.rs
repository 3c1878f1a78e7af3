//! Every mode described in one place: what it adds to the prompt, which tools it offers,
//! where its answer is, how it re-asks, and whether it streams. The engine reads this
//! table; nothing else matches on modes.

use crate::Mode;

/// What a mode adds to the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prompt {
    /// Nothing: the provider enforces the schema (tools, a response format, a grammar).
    None,
    /// The schema and instructions in the system message; `fenced` asks for a ```json block.
    Schema { fenced: bool },
}

/// Which tools the request offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tools {
    /// None.
    None,
    /// The type's one tool.
    One,
    /// The parallel tool set of a list type.
    Parallel,
}

/// Where the answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The tool call's arguments (the content, when a server puts it there instead).
    ToolArguments,
    /// Every tool call, each one element of the list.
    AllToolCalls,
    /// The text content: prose, fences and `<think>` blocks around the value.
    Text,
}

/// One mode's row.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModeSpec {
    pub prompt: Prompt,
    pub tools: Tools,
    pub answer: Answer,
    /// Whether a failed answer is re-asked as tool results (else as a user message).
    pub reask_as_tool_result: bool,
    /// Whether the answer can be streamed into partial values and list items.
    pub streams: bool,
}

/// The row of `mode`.
pub(crate) fn spec(mode: Mode) -> ModeSpec {
    let (prompt, tools, answer, reask_as_tool_result, streams) = match mode {
        Mode::Tools | Mode::ToolsStrict => {
            (Prompt::None, Tools::One, Answer::ToolArguments, true, true)
        }
        Mode::ParallelTools => (
            Prompt::None,
            Tools::Parallel,
            Answer::AllToolCalls,
            true,
            false,
        ),
        Mode::Json => (
            Prompt::Schema { fenced: false },
            Tools::None,
            Answer::Text,
            false,
            true,
        ),
        Mode::MdJson => (
            Prompt::Schema { fenced: true },
            Tools::None,
            Answer::Text,
            false,
            true,
        ),
        Mode::JsonSchema | Mode::Grammar => (Prompt::None, Tools::None, Answer::Text, false, true),
    };
    ModeSpec {
        prompt,
        tools,
        answer,
        reask_as_tool_result,
        streams,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_modes_answer_in_tool_calls_and_re_ask_with_tool_results() {
        for &mode in Mode::ALL {
            let s = spec(mode);
            assert_eq!(s.tools != Tools::None, mode.uses_tools(), "{mode}");
            assert_eq!(s.reask_as_tool_result, mode.uses_tools(), "{mode}");
            assert_eq!(s.answer == Answer::Text, !mode.uses_tools(), "{mode}");
        }
        assert!(!spec(Mode::ParallelTools).streams);
    }
}
