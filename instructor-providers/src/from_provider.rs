//! `from_provider("provider/model")`: a configured [`Client`] from one string, the key and
//! base URL read from the environment.

use instructor_core::{Client, Error};

use crate::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};

/// Every provider name `from_provider` knows, for its error message.
const KNOWN: &str = "openai, ollama, ollama-native, llama-cpp-python, llama.cpp, vllm, lmstudio, groq, together, anyscale, fireworks, deepseek, openrouter, xai, anthropic, gemini, mistral, cohere";

fn env_url(var: &str, default: &str) -> String {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A client for `"provider/model"`, e.g. `"ollama/llama3.2"`, `"groq/llama-3.1-8b-instant"`,
/// `"anthropic/claude-sonnet-4-5"`. Keys come from each provider's variable
/// (`OPENAI_API_KEY`, `GROQ_API_KEY`, `ANTHROPIC_API_KEY`, `GEMINI_API_KEY`, ...); local
/// servers read their base URL from `OLLAMA_HOST`, `LLAMA_CPP_PYTHON_URL`, `LLAMA_CPP_URL`,
/// `VLLM_URL`. An unknown provider or a missing key is an [`Error::Config`] naming what
/// to set.
///
/// ```
/// # std::env::remove_var("GROQ_API_KEY");
/// let err = instructor_providers::from_provider("groq/llama-3.1-8b-instant").unwrap_err();
/// assert!(err.to_string().contains("GROQ_API_KEY"));
/// let client = instructor_providers::from_provider("ollama/llama3.2").unwrap();
/// # let _ = client;
/// ```
pub fn from_provider(spec: &str) -> Result<Client, Error> {
    let Some((provider, model)) = spec.split_once('/') else {
        return Err(Error::Config(format!(
            "expected \"provider/model\" (e.g. \"ollama/llama3.2\"), got \"{spec}\""
        )));
    };
    if model.trim().is_empty() {
        return Err(Error::Config(format!("no model in \"{spec}\"")));
    }
    fn env<P: instructor_core::Provider + 'static>(p: Result<P, Error>) -> Result<Client, Error> {
        p.map(Client::new)
    }
    let built = match provider {
        "openai" => env(OpenAi::from_env()),
        "ollama" => Ok(Client::new(OpenAi::ollama())),
        "ollama-native" => Ok(Client::new(Ollama::new())),
        "llama-cpp-python" => Ok(Client::new(OpenAi::llama_cpp_python(env_url(
            "LLAMA_CPP_PYTHON_URL",
            "http://127.0.0.1:8000/v1",
        )))),
        "llama.cpp" | "llama-cpp" => Ok(Client::new(OpenAi::llama_cpp_server(env_url(
            "LLAMA_CPP_URL",
            "http://127.0.0.1:8080/v1",
        )))),
        "vllm" => Ok(Client::new(OpenAi::vllm(env_url(
            "VLLM_URL",
            "http://127.0.0.1:8000/v1",
        )))),
        "lmstudio" | "lm-studio" => Ok(Client::new(OpenAi::lm_studio())),
        "groq" | "together" | "anyscale" | "fireworks" | "deepseek" | "openrouter" | "xai" => {
            let p = match provider {
                "groq" => OpenAi::groq(),
                "together" => OpenAi::together(),
                "anyscale" => OpenAi::anyscale(),
                "fireworks" => OpenAi::fireworks(),
                "deepseek" => OpenAi::deepseek(),
                "openrouter" => OpenAi::openrouter(),
                _ => OpenAi::xai(),
            };
            env(p.check().map(|()| p))
        }
        "anthropic" => env(Anthropic::from_env()),
        "gemini" | "google" => env(Gemini::from_env()),
        "mistral" => env(Mistral::from_env()),
        "cohere" => env(Cohere::from_env()),
        other => Err(Error::Config(format!(
            "unknown provider `{other}`; known providers: {KNOWN}"
        ))),
    }?;
    Ok(built.model(model))
}
