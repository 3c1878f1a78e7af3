//! The OpenAI-compatible provider: OpenAI itself and every server that speaks Chat
//! Completions, each preset declaring (as data) its base URL, key variable, the modes its
//! server really honours and the request shapes it takes. Mistral reuses this translator
//! with its own preset.

pub(crate) mod convert;
pub(crate) mod media;
pub(crate) mod schema;
pub(crate) mod wire;

use std::marker::PhantomData;

use instructor_core::{Error, Mode, Response};
use schema::{JsonSchemaShape, ToolChoiceShape};

use crate::body::Conversation;
use crate::events::Mapped;
use crate::http::{Auth, Reply};
use crate::shared::SamplingNames;
use crate::translate::{Call, Declared, HttpProvider, Translate};

/// Which server a client talks to, and so which shapes it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    pub(crate) name: &'static str,
    pub(crate) base_url: &'static str,
    /// A variable that overrides `base_url` for the standard provider.
    pub(crate) base_url_var: Option<&'static str>,
    pub(crate) key_var: Option<&'static str>,
    pub(crate) key_required: bool,
    pub(crate) modes: &'static [Mode],
    pub(crate) default_mode: Mode,
    pub(crate) json_schema: JsonSchemaShape,
    pub(crate) tool_choice: ToolChoiceShape,
    pub(crate) inline_refs: bool,
    /// What the server calls the sampling settings (OpenAI itself names the token limit
    /// `max_completion_tokens`, Mistral the seed `random_seed`).
    pub(crate) sampling: SamplingNames,
    pub(crate) default_model: Option<&'static str>,
    /// The media parts the server takes, and in which shapes.
    pub(crate) media: media::ChatMedia,
}

use Mode::*;

const ALL_HOSTED: &[Mode] = &[Tools, ToolsStrict, Json, JsonSchema, MdJson, ParallelTools];

pub(crate) const fn preset(
    name: &'static str,
    base_url: &'static str,
    key_var: Option<&'static str>,
) -> Preset {
    Preset {
        name,
        base_url,
        base_url_var: None,
        key_var,
        key_required: key_var.is_some(),
        modes: ALL_HOSTED,
        default_mode: Tools,
        json_schema: JsonSchemaShape::OpenAi,
        tool_choice: ToolChoiceShape::Function,
        inline_refs: false,
        sampling: SamplingNames::CHAT,
        default_model: None,
        media: media::IMAGES,
    }
}

const OPENAI: Preset = Preset {
    base_url_var: Some("OPENAI_BASE_URL"),
    media: media::OPENAI,
    sampling: SamplingNames {
        max_tokens: Some("max_completion_tokens"),
        ..SamplingNames::CHAT
    },
    ..preset(
        "openai",
        "https://api.openai.com/v1",
        Some("OPENAI_API_KEY"),
    )
};
const COMPATIBLE: Preset = Preset {
    key_required: false,
    media: media::OPENAI_SHAPES,
    default_model: Some("default"),
    ..preset(
        "openai-compatible",
        "http://localhost:8000/v1",
        Some("OPENAI_API_KEY"),
    )
};
const OLLAMA: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
    default_mode: JsonSchema,
    json_schema: JsonSchemaShape::Plain,
    tool_choice: ToolChoiceShape::Omit,
    inline_refs: true,
    media: media::IMAGE_BYTES,
    ..preset("ollama", "http://localhost:11434/v1", None)
};
const LLAMA_CPP_SERVER: Preset = Preset {
    modes: &[JsonSchema, Json, MdJson],
    default_mode: JsonSchema,
    json_schema: JsonSchemaShape::Plain,
    tool_choice: ToolChoiceShape::Required,
    default_model: Some("default"),
    ..preset("llama.cpp", "http://127.0.0.1:8080/v1", None)
};
const LLAMA_CPP_PYTHON: Preset = Preset {
    modes: &[JsonSchema, Tools, Json, MdJson],
    default_mode: JsonSchema,
    json_schema: JsonSchemaShape::ObjectWithSchema,
    default_model: Some("default"),
    ..preset("llama-cpp-python", "http://127.0.0.1:8000/v1", None)
};
const VLLM: Preset = Preset {
    default_model: Some("default"),
    ..preset("vllm", "http://127.0.0.1:8000/v1", None)
};
const LM_STUDIO: Preset = Preset {
    modes: &[JsonSchema, Tools, MdJson],
    default_mode: JsonSchema,
    json_schema: JsonSchemaShape::Plain,
    default_model: Some("default"),
    ..preset("lm-studio", "http://127.0.0.1:1234/v1", None)
};
const GROQ: Preset = preset(
    "groq",
    "https://api.groq.com/openai/v1",
    Some("GROQ_API_KEY"),
);
const TOGETHER: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
    ..preset(
        "together",
        "https://api.together.xyz/v1",
        Some("TOGETHER_API_KEY"),
    )
};
const ANYSCALE: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson],
    json_schema: JsonSchemaShape::ObjectWithSchema,
    ..preset(
        "anyscale",
        "https://api.endpoints.anyscale.com/v1",
        Some("ANYSCALE_API_KEY"),
    )
};
const FIREWORKS: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
    json_schema: JsonSchemaShape::Plain,
    ..preset(
        "fireworks",
        "https://api.fireworks.ai/inference/v1",
        Some("FIREWORKS_API_KEY"),
    )
};
const DEEPSEEK: Preset = Preset {
    modes: &[Tools, Json, MdJson, ParallelTools],
    // Its chat models read text only.
    media: media::NONE,
    ..preset(
        "deepseek",
        "https://api.deepseek.com",
        Some("DEEPSEEK_API_KEY"),
    )
};
const OPENROUTER: Preset = Preset {
    // OpenRouter passes OpenAI's `file` and `input_audio` parts on to models that read them.
    media: media::OPENAI_SHAPES,
    ..preset(
        "openrouter",
        "https://openrouter.ai/api/v1",
        Some("OPENROUTER_API_KEY"),
    )
};
const XAI: Preset = preset("xai", "https://api.x.ai/v1", Some("XAI_API_KEY"));

/// A Chat Completions API: the preset its standard provider starts from.
pub trait ChatApi: Clone + Send + Sync + 'static {
    /// The preset of `new()`.
    const PRESET: Preset;
    /// Its batch API, if it has OpenAI's.
    const BATCH: Option<crate::batch::BatchWire> = None;
}

/// OpenAI's own API (and, through the other presets, every compatible server).
#[derive(Debug, Clone, Copy)]
pub enum OpenAiApi {}

impl ChatApi for OpenAiApi {
    const PRESET: Preset = OPENAI;
    const BATCH: Option<crate::batch::BatchWire> = Some(crate::batch::BatchWire::OpenAi);
}

/// The Chat Completions translator, for a preset of API `A`.
#[derive(Debug, Clone)]
pub struct Chat<A> {
    preset: Preset,
    api: PhantomData<A>,
}

impl<A: ChatApi> Translate for Chat<A> {
    type Body<'a> = wire::ChatRequest<'a>;
    type StreamState = ();
    const AUTH: Auth = Auth::Bearer;
    const PATH: &'static str = "/chat/completions";
    const BATCH: Option<crate::batch::BatchWire> = A::BATCH;

    fn standard() -> HttpProvider<Self> {
        let p = HttpProvider::from_preset(A::PRESET);
        let url = A::PRESET
            .base_url_var
            .and_then(|var| std::env::var(var).ok())
            .filter(|url| !url.trim().is_empty());
        match url {
            Some(url) => p.base_url(url.trim()),
            None => p,
        }
    }

    fn declared(&self) -> Declared {
        Declared {
            name: self.preset.name,
            base_url: self.preset.base_url,
            key_var: self.preset.key_var,
            key_required: self.preset.key_required,
            modes: self.preset.modes,
            default_mode: self.preset.default_mode,
            images: self.preset.media.images,
            documents: self.preset.media.documents.is_some(),
            audio: self.preset.media.audio,
            media: self.preset.media.rules,
        }
    }

    fn body<'a>(&'a self, call: &Call<'a>) -> Result<wire::ChatRequest<'a>, Error> {
        let (p, request) = (&self.preset, call.request);
        let messages = convert::messages(request, p)?;
        let output = schema::members(&request.output, p, &self.declared())?;
        Ok(wire::ChatRequest {
            model: call.model,
            chat: Conversation::new(call, messages, p.sampling, output),
            stream_options: call.stream.then_some(wire::StreamOptions {
                include_usage: true,
            }),
        })
    }

    fn response(body: String) -> Result<Response, Error> {
        convert::response(body)
    }

    /// A `json_validate_failed` error reply is an answer; streamed, it is streamed whole.
    fn error(reply: Reply) -> Result<Response, Error> {
        convert::error(reply)
    }

    fn event(item: &str, _state: &mut ()) -> Mapped {
        convert::stream_events(item)
    }
}

impl<A: ChatApi> HttpProvider<Chat<A>> {
    pub(crate) fn from_preset(preset: Preset) -> Self {
        let chat = Chat {
            preset,
            api: PhantomData,
        };
        let p = Self::build(chat);
        match preset.default_model {
            Some(model) => p.default_model(model),
            None => p,
        }
    }
}

/// An OpenAI-compatible Chat Completions provider. [`OpenAi::new`] is OpenAI itself
/// (`OPENAI_API_KEY`; the base URL from `OPENAI_BASE_URL` if set); a preset constructor
/// ([`OpenAi::ollama`], [`OpenAi::llama_cpp_python`], [`OpenAi::groq`], ...) or
/// [`OpenAi::compatible`] gives any other server. Adjust it with the consuming setters.
///
/// ```
/// use instructor_providers::OpenAi;
/// let local = OpenAi::llama_cpp_python("http://127.0.0.1:8000/v1");
/// let groq = OpenAi::groq().api_key("gsk-...");
/// assert!(!format!("{groq:?}").contains("gsk-"));
/// # let _ = local;
/// ```
///
/// The body a request would be sent with, for a caller's own transport or batch file:
///
/// ```
/// use instructor_core::{Client, Mode, Provider};
/// let openai = instructor_providers::OpenAi::new().api_key("sk-...");
/// let client = Client::new(openai.clone()).model("gpt-4o").mode(Mode::Json);
/// let prepared = client.create::<Vec<String>>().user("Three colours").prepare()?;
/// let body = openai.wire_body(prepared.request())?;
/// assert_eq!(body["response_format"]["type"], "json_object");
/// # Ok::<(), instructor_core::Error>(())
/// ```
pub type OpenAi = HttpProvider<Chat<OpenAiApi>>;

impl OpenAi {
    /// Any OpenAI-compatible server at `base_url` (ending in `/v1` where the server has it).
    /// Every mode but `Grammar` is allowed; a key is sent if `OPENAI_API_KEY` is set or one
    /// is given.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::compatible("http://127.0.0.1:8000/v1");
    /// assert_eq!(p.url(), "http://127.0.0.1:8000/v1");
    /// ```
    pub fn compatible(base_url: impl Into<String>) -> Self {
        Self::from_preset(COMPATIBLE).base_url(base_url)
    }

    /// Ollama's OpenAI-compatible endpoint at `OLLAMA_HOST` (default
    /// `http://localhost:11434`): JSON schema (`$ref`s inlined), JSON, tools.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::ollama();
    /// assert!(p.url().ends_with("/v1"));
    /// ```
    pub fn ollama() -> Self {
        Self::from_preset(OLLAMA).base_url(format!("{}/v1", crate::ollama::host()))
    }

    /// A llama.cpp `llama-server`: JSON schema (OpenAI form), JSON, markdown JSON. Its forced
    /// tool calls are not reliable, so tool modes are refused.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::llama_cpp_server("http://127.0.0.1:8080/v1");
    /// # let _ = p;
    /// ```
    pub fn llama_cpp_server(base_url: impl Into<String>) -> Self {
        Self::from_preset(LLAMA_CPP_SERVER).base_url(base_url)
    }

    /// A llama-cpp-python server: JSON-schema mode is sent as `json_object` + `schema` (its
    /// server rejects `json_schema`); forced tools work with function-calling chat formats.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::llama_cpp_python("http://127.0.0.1:8000/v1");
    /// # let _ = p;
    /// ```
    pub fn llama_cpp_python(base_url: impl Into<String>) -> Self {
        Self::from_preset(LLAMA_CPP_PYTHON).base_url(base_url)
    }

    /// A vLLM server.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::vllm("http://127.0.0.1:8000/v1");
    /// # let _ = p;
    /// ```
    pub fn vllm(base_url: impl Into<String>) -> Self {
        Self::from_preset(VLLM).base_url(base_url)
    }

    /// LM Studio's local server (default `http://127.0.0.1:1234/v1`).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::lm_studio();
    /// # let _ = p;
    /// ```
    pub fn lm_studio() -> Self {
        Self::from_preset(LM_STUDIO)
    }

    /// Groq (`GROQ_API_KEY`). A `json_validate_failed` error becomes an answer to re-ask.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::groq();
    /// # let _ = p;
    /// ```
    pub fn groq() -> Self {
        Self::from_preset(GROQ)
    }

    /// Together AI (`TOGETHER_API_KEY`).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::together();
    /// # let _ = p;
    /// ```
    pub fn together() -> Self {
        Self::from_preset(TOGETHER)
    }

    /// An Anyscale-style endpoint (`ANYSCALE_API_KEY`): JSON schema as `json_object` +
    /// `schema`.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::anyscale();
    /// # let _ = p;
    /// ```
    pub fn anyscale() -> Self {
        Self::from_preset(ANYSCALE)
    }

    /// Fireworks (`FIREWORKS_API_KEY`).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::fireworks();
    /// # let _ = p;
    /// ```
    pub fn fireworks() -> Self {
        Self::from_preset(FIREWORKS)
    }

    /// DeepSeek (`DEEPSEEK_API_KEY`): JSON and tools; no JSON-schema mode.
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::deepseek();
    /// # let _ = p;
    /// ```
    pub fn deepseek() -> Self {
        Self::from_preset(DEEPSEEK)
    }

    /// OpenRouter (`OPENROUTER_API_KEY`).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::openrouter();
    /// # let _ = p;
    /// ```
    pub fn openrouter() -> Self {
        Self::from_preset(OPENROUTER)
    }

    /// xAI (`XAI_API_KEY`).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::xai();
    /// # let _ = p;
    /// ```
    pub fn xai() -> Self {
        Self::from_preset(XAI)
    }
}
