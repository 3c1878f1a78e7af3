//! Provider-neutral chat messages: roles, text and media parts (images, documents, audio;
//! see [`crate::media`]), tool calls and results.

use serde::Serialize;
use serde_json::Value;

use crate::media::{Audio, Document, Image, MediaKind};
use crate::Error;

/// Who speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// Instructions.
    System,
    /// The user.
    User,
    /// The model.
    Assistant,
    /// A tool's result, answering an assistant's tool call.
    Tool,
}

/// One part of a message's content.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// Text.
    Text(String),
    /// An image.
    Image(Image),
    /// A document (a PDF).
    Document(Document),
    /// Audio.
    Audio(Audio),
}

impl Part {
    /// The media kind of the part (`None` for text).
    ///
    /// ```
    /// use instructor_core::{media::MediaKind, Image, Part};
    /// assert_eq!(Part::Text("hi".into()).media_kind(), None);
    /// assert_eq!(Part::from(Image::from_url("https://x/y.png")).media_kind(), Some(MediaKind::Image));
    /// ```
    pub fn media_kind(&self) -> Option<MediaKind> {
        match self {
            Part::Text(_) => None,
            Part::Image(_) => Some(MediaKind::Image),
            Part::Document(_) => Some(MediaKind::Document),
            Part::Audio(_) => Some(MediaKind::Audio),
        }
    }

    /// The image, document or audio in the file at `path`, its kind and media type sniffed
    /// from its bytes (a file of no known media type is [`Error::Media`]).
    ///
    /// ```
    /// use instructor_core::{media::MediaKind, Part};
    /// let path = std::env::temp_dir().join("instructor-doc-part.pdf");
    /// std::fs::write(&path, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n").unwrap();
    /// assert_eq!(Part::from_path(&path)?.media_kind(), Some(MediaKind::Document));
    /// # Ok::<(), instructor_core::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let bytes = crate::media::read_file(path)?;
        let kind = crate::media::sniff_kind(&bytes).ok_or_else(|| Error::Media {
            message: format!(
                "the media type of {} could not be recognized",
                path.display()
            ),
            source: None,
        })?;
        Ok(match kind {
            MediaKind::Image => Part::Image(Image::from_bytes(&bytes)?),
            MediaKind::Document => Part::Document(Document::from_bytes(&bytes)?),
            MediaKind::Audio => Part::Audio(Audio::from_bytes(&bytes)?),
        })
    }
}

/// `From` each part's own type: the part of that kind.
macro_rules! part_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Part {
            fn from(part: $ty) -> Self {
                Part::$variant(part)
            }
        }
    )*};
}
part_from!(Image => Image, Document => Document, Audio => Audio, String => Text);

impl From<&str> for Part {
    fn from(text: &str) -> Self {
        Part::Text(text.to_owned())
    }
}

/// A tool call's arguments as the provider gave them: JSON text (OpenAI) or an already
/// parsed object (Anthropic, Ollama, Gemini).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolArguments {
    /// JSON text.
    Text(String),
    /// A parsed JSON value.
    Json(Value),
}

impl ToolArguments {
    /// The arguments as JSON text (serializing an object).
    ///
    /// ```
    /// use instructor_core::ToolArguments;
    /// let a = ToolArguments::Json(serde_json::json!({"a": 1}));
    /// assert_eq!(a.to_text(), r#"{"a":1}"#);
    /// ```
    pub fn to_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ToolArguments::Text(s) => std::borrow::Cow::Borrowed(s),
            ToolArguments::Json(v) => std::borrow::Cow::Owned(v.to_string()),
        }
    }
}

/// A call of a function tool, made by the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    /// The provider's call id (needed to answer the call in a re-ask).
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments.
    pub arguments: ToolArguments,
}

/// One chat message.
///
/// ```
/// use instructor_core::{Message, Role};
/// let m = Message::user("Jason is 30 years old");
/// assert_eq!(m.role, Role::User);
/// assert_eq!(m.text(), "Jason is 30 years old");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// Text and media parts.
    pub content: Vec<Part>,
    /// Tool calls the assistant made (assistant messages).
    pub tool_calls: Vec<ToolCall>,
    /// Which call this answers (tool messages).
    pub tool_call_id: Option<String>,
    /// Whether a tool result reports an error (tool messages).
    pub is_error: bool,
}

impl Message {
    fn text_message(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            content: vec![Part::Text(text.into())],
            tool_calls: Vec::new(),
            tool_call_id: None,
            is_error: false,
        }
    }

    /// A system message.
    ///
    /// ```
    /// let m = instructor_core::Message::system("Extract people.");
    /// assert_eq!(m.role, instructor_core::Role::System);
    /// ```
    pub fn system(text: impl Into<String>) -> Self {
        Self::text_message(Role::System, text)
    }

    /// A user message.
    ///
    /// ```
    /// let m = instructor_core::Message::user("hi");
    /// assert_eq!(m.text(), "hi");
    /// ```
    pub fn user(text: impl Into<String>) -> Self {
        Self::text_message(Role::User, text)
    }

    /// An assistant message.
    ///
    /// ```
    /// let m = instructor_core::Message::assistant("{}");
    /// assert_eq!(m.role, instructor_core::Role::Assistant);
    /// ```
    pub fn assistant(text: impl Into<String>) -> Self {
        Self::text_message(Role::Assistant, text)
    }

    /// A user message with an image after the text.
    ///
    /// ```
    /// use instructor_core::{Message, Image};
    /// let m = Message::user_with_image("What is this?", Image::Url("https://x/y.png".into()));
    /// assert_eq!(m.content.len(), 2);
    /// ```
    pub fn user_with_image(text: impl Into<String>, image: Image) -> Self {
        let mut m = Self::user(text);
        m.content.push(Part::Image(image));
        m
    }

    /// A user message with media parts (images, documents, audio; text too) after the text.
    ///
    /// ```
    /// use instructor_core::{Document, Image, Message};
    /// let m = Message::user_with_parts(
    ///     "Compare the photo with the invoice.",
    ///     [Image::from_url("https://x/photo.jpg").into(), Document::from_url("https://x/invoice.pdf").into()],
    /// );
    /// assert_eq!(m.content.len(), 3);
    /// ```
    pub fn user_with_parts(text: impl Into<String>, parts: impl IntoIterator<Item = Part>) -> Self {
        let mut m = Self::user(text);
        m.content.extend(parts);
        m
    }

    /// The same message with `part` appended.
    ///
    /// ```
    /// use instructor_core::{Audio, Message};
    /// let m = Message::user("Transcribe the names.").with_part(Audio::from_url("https://x/a.mp3"));
    /// assert_eq!(m.content.len(), 2);
    /// ```
    pub fn with_part(mut self, part: impl Into<Part>) -> Self {
        self.content.push(part.into());
        self
    }

    /// An assistant message that made tool calls.
    ///
    /// ```
    /// use instructor_core::{Message, ToolCall, ToolArguments};
    /// let call = ToolCall { id: "1".into(), name: "f".into(), arguments: ToolArguments::Text("{}".into()) };
    /// assert_eq!(Message::assistant_tool_calls(vec![call]).tool_calls.len(), 1);
    /// ```
    pub fn assistant_tool_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            role: Role::Assistant,
            content: Vec::new(),
            tool_calls: calls,
            tool_call_id: None,
            is_error: false,
        }
    }

    /// A tool result answering call `id`.
    ///
    /// ```
    /// let m = instructor_core::Message::tool_result("call_1", "ok", false);
    /// assert_eq!(m.tool_call_id.as_deref(), Some("call_1"));
    /// ```
    pub fn tool_result(id: impl Into<String>, text: impl Into<String>, is_error: bool) -> Self {
        let mut m = Self::text_message(Role::Tool, text);
        m.tool_call_id = Some(id.into());
        m.is_error = is_error;
        m
    }

    /// The text parts joined (media parts left out).
    ///
    /// ```
    /// assert_eq!(instructor_core::Message::user("a").text(), "a");
    /// ```
    pub fn text(&self) -> String {
        let mut out = String::new();
        for part in &self.content {
            if let Part::Text(t) = part {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(t);
            }
        }
        out
    }
}
