//! The OpenAI-compatible provider: OpenAI itself and every server that speaks Chat
//! Completions, each preset declaring (as data) its base URL, key variable, the modes its
//! server really honours and the request shapes it takes.

pub(crate) mod convert;
pub(crate) mod schema;
pub(crate) mod wire;

use std::fmt;

use crate::endpoint::{endpoint_setters, Endpoint, Framing};
use crate::http::bearer_headers;
use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};
use schema::{JsonSchemaShape, ToolChoiceShape};

/// Which server a client talks to, and so which shapes it sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Preset {
    pub name: &'static str,
    pub base_url: &'static str,
    pub key_var: Option<&'static str>,
    pub key_required: bool,
    pub modes: &'static [Mode],
    pub default_mode: Mode,
    pub json_schema: JsonSchemaShape,
    pub tool_choice: ToolChoiceShape,
    pub inline_refs: bool,
    /// OpenAI itself names the token limit `max_completion_tokens`.
    pub max_completion_tokens: bool,
    pub default_model: Option<&'static str>,
}

use Mode::*;

const ALL_HOSTED: &[Mode] = &[Tools, ToolsStrict, Json, JsonSchema, MdJson, ParallelTools];

const fn preset(
    name: &'static str,
    base_url: &'static str,
    key_var: Option<&'static str>,
) -> Preset {
    Preset {
        name,
        base_url,
        key_var,
        key_required: key_var.is_some(),
        modes: ALL_HOSTED,
        default_mode: Tools,
        json_schema: JsonSchemaShape::OpenAi,
        tool_choice: ToolChoiceShape::Function,
        inline_refs: false,
        max_completion_tokens: false,
        default_model: None,
    }
}

pub(crate) const OPENAI: Preset = Preset {
    max_completion_tokens: true,
    ..preset(
        "openai",
        "https://api.openai.com/v1",
        Some("OPENAI_API_KEY"),
    )
};
const COMPATIBLE: Preset = Preset {
    key_required: false,
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
    ..preset(
        "deepseek",
        "https://api.deepseek.com",
        Some("DEEPSEEK_API_KEY"),
    )
};
const OPENROUTER: Preset = preset(
    "openrouter",
    "https://openrouter.ai/api/v1",
    Some("OPENROUTER_API_KEY"),
);
const XAI: Preset = preset("xai", "https://api.x.ai/v1", Some("XAI_API_KEY"));
pub(crate) const MISTRAL: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
    tool_choice: ToolChoiceShape::Any,
    ..preset(
        "mistral",
        "https://api.mistral.ai/v1",
        Some("MISTRAL_API_KEY"),
    )
};

/// An OpenAI-compatible Chat Completions provider. Build one with a preset constructor
/// ([`OpenAi::new`], [`OpenAi::ollama`], [`OpenAi::llama_cpp_python`], ...) or
/// [`OpenAi::compatible`] for any other server, then adjust it with the consuming setters.
///
/// ```
/// use instructor_providers::OpenAi;
/// let local = OpenAi::llama_cpp_python("http://127.0.0.1:8000/v1");
/// let groq = OpenAi::groq().api_key("gsk-...");
/// assert!(!format!("{groq:?}").contains("gsk-"));
/// # let _ = local;
/// ```
#[derive(Clone)]
pub struct OpenAi {
    preset: Preset,
    pub(crate) endpoint: Endpoint,
}

impl fmt::Debug for OpenAi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl Default for OpenAi {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenAi {
    fn from_preset(preset: Preset) -> Self {
        let mut endpoint = Endpoint::new(
            preset.name,
            preset.base_url,
            preset.key_var,
            preset.key_required,
        );
        endpoint.default_model = preset.default_model.map(str::to_owned);
        Self { preset, endpoint }
    }

    endpoint_setters!(endpoint);

    /// OpenAI (`OPENAI_API_KEY`, base URL from `OPENAI_BASE_URL` if set).
    ///
    /// ```
    /// let p = instructor_providers::OpenAi::new();
    /// # let _ = p;
    /// ```
    pub fn new() -> Self {
        let p = Self::from_preset(OPENAI);
        match std::env::var("OPENAI_BASE_URL") {
            Ok(url) if !url.trim().is_empty() => p.base_url(url.trim()),
            _ => p,
        }
    }

    /// OpenAI configured from the environment: `OPENAI_API_KEY` (required) and
    /// `OPENAI_BASE_URL` (optional).
    ///
    /// ```
    /// # std::env::remove_var("OPENAI_API_KEY");
    /// let err = instructor_providers::OpenAi::from_env().unwrap_err();
    /// assert!(err.to_string().contains("OPENAI_API_KEY"));
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        let p = Self::new();
        p.endpoint.ready()?;
        Ok(p)
    }

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

    pub(crate) fn mistral_preset() -> Self {
        Self::from_preset(MISTRAL)
    }

    fn body(&self, request: &Request, stream: bool) -> Result<Vec<u8>, Error> {
        let p = &self.preset;
        let model = self.endpoint.model(request.model.as_deref())?;
        let (tools, tool_choice, parallel_tool_calls) =
            schema::tools(&request.output, p.tool_choice, p.inline_refs)?;
        let response_format =
            schema::response_format(&request.output, p.json_schema, p.inline_refs)?;
        let (max_tokens, max_completion_tokens) = if p.max_completion_tokens {
            (None, request.max_tokens)
        } else {
            (request.max_tokens, None)
        };
        let body = wire::ChatRequest {
            model,
            messages: convert::messages(request),
            temperature: request.temperature,
            top_p: request.top_p,
            max_tokens,
            max_completion_tokens,
            seed: request.seed,
            stop: &request.stop,
            tools,
            tool_choice,
            parallel_tool_calls,
            response_format,
            stream: stream.then_some(true),
            stream_options: stream.then_some(wire::StreamOptions {
                include_usage: true,
            }),
        };
        crate::body::serialize(&body, request)
    }
}

#[async_trait]
impl Provider for OpenAi {
    fn name(&self) -> &str {
        self.preset.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&self.preset.modes)
            .with_default_mode(self.preset.default_mode)
            .with_streaming(true)
            .with_images(true)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let key = self.endpoint.ready()?;
        let headers = bearer_headers(key, &self.endpoint.headers)?;
        let body = self.body(request, false)?;
        let url = format!("{}/chat/completions", self.endpoint.base_url);
        self.endpoint
            .exchange(&url, &headers, body, convert::response, convert::error)
            .await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let key = self.endpoint.ready()?;
        let headers = bearer_headers(key, &self.endpoint.headers)?;
        let body = self.body(request, true)?;
        let url = format!("{}/chat/completions", self.endpoint.base_url);
        // A json_validate_failed error reply is an answer; `convert::error` makes it one,
        // and it is streamed whole.
        self.endpoint
            .stream(
                &url,
                &headers,
                body,
                Framing::Sse,
                convert::error,
                convert::stream_events,
            )
            .await
    }
}
