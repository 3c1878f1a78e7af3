//! What every HTTP provider holds besides its wire format: where to send, the key, extra
//! headers, the HTTP client and a default model; and the one exchange (whole or streamed)
//! every provider goes through, where the key is scrubbed from every error before it leaves.
//! The setters that adjust it are [`HttpProvider`](crate::translate::HttpProvider)'s.

use std::fmt;

use futures::StreamExt;
use instructor_core::{Error, EventStream, Response};
use reqwest::header::HeaderMap;

use crate::events::Mapped;
use crate::http::{parse_header, Http, Reply};
use crate::scrub::{redact_url, Scrub};
use crate::{ApiKey, HttpOptions};

#[derive(Clone)]
pub(crate) struct Endpoint {
    pub name: &'static str,
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub key_var: Option<&'static str>,
    pub key_required: bool,
    pub headers: HeaderMap,
    pub config_error: Option<String>,
    pub http: Http,
    pub default_model: Option<String>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.name)
            .field("base_url", &redact_url(&self.base_url))
            .field("api_key", &self.key)
            .field("extra_headers", &self.headers.keys().collect::<Vec<_>>())
            .field("default_model", &self.default_model)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint whose key comes from `key_var` (if given) and must be present when
    /// `key_required`.
    pub fn new(
        name: &'static str,
        base_url: &str,
        key_var: Option<&'static str>,
        key_required: bool,
    ) -> Self {
        Self {
            name,
            base_url: base_url.trim_end_matches('/').to_owned(),
            key: key_var.and_then(ApiKey::from_env),
            key_var,
            key_required,
            headers: HeaderMap::new(),
            config_error: None,
            http: Http::shared(),
            default_model: None,
        }
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        match parse_header(name, value) {
            Ok((n, v)) => {
                self.headers.insert(n, v);
            }
            Err(e) => self.config_error = Some(e.to_string()),
        }
    }

    pub fn set_http_options(&mut self, options: HttpOptions) {
        match Http::with_options(options) {
            Ok(http) => self.http = http,
            Err(e) => self.config_error = Some(e.to_string()),
        }
    }

    /// The model for a request, or a clear error naming the provider.
    pub fn model<'a>(&'a self, requested: Option<&'a str>) -> Result<&'a str, Error> {
        requested.or(self.default_model.as_deref()).ok_or_else(|| {
            Error::Config(format!(
                "no model set for the {} provider; call `.model(..)` on the client",
                self.name
            ))
        })
    }

    /// Checks the configuration before a request: header errors, a missing key.
    pub fn ready(&self) -> Result<Option<&ApiKey>, Error> {
        if let Some(e) = &self.config_error {
            return Err(Error::Config(e.clone()));
        }
        if self.key_required && self.key.is_none() {
            return Err(missing_key(self.key_var.unwrap_or("the API key")));
        }
        Ok(self.key.as_ref())
    }
}

/// How a streamed body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events; the mapping gets each event's data.
    Sse,
    /// Newline-delimited JSON; the mapping gets each line.
    Ndjson,
}

impl Endpoint {
    /// The secrets this endpoint's errors must not show.
    pub(crate) fn scrub(&self) -> Scrub {
        Scrub::new(self.key.as_ref(), &self.headers, &self.base_url)
    }

    /// POSTs `body` to `url`: a success body goes through `ok`, an error reply through
    /// `fail`. The response and every error returned have the endpoint's secrets masked.
    pub async fn exchange(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
        ok: fn(String) -> Result<Response, Error>,
        fail: fn(Reply) -> Result<Response, Error>,
    ) -> Result<Response, Error> {
        let result = match self.http.post_json(url, headers, body).await {
            Ok(reply) if (200..300).contains(&reply.status) => ok(reply.body),
            Ok(reply) => fail(reply),
            Err(e) => Err(e),
        };
        let scrub = self.scrub();
        result
            .map(|r| scrub.response(r))
            .map_err(|e| scrub.error(e))
    }

    /// POSTs `body` to `url` for a streamed answer: the body, framed as `framing`, each
    /// item mapped by `map` until the item it marks as the end. An error reply goes through
    /// `fail` (a reply that is really an answer is streamed whole). Every error, at the
    /// start or in the stream, has the endpoint's secrets masked.
    pub async fn stream(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
        framing: Framing,
        fail: fn(Reply) -> Result<Response, Error>,
        mut map: impl FnMut(&str) -> Mapped + Send + 'static,
    ) -> Result<EventStream, Error> {
        let scrub = self.scrub();
        let bytes = match self.http.post_stream(url, headers, body).await {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(reply)) => {
                return fail(reply)
                    .map(|r| crate::events::whole(scrub.response(r)))
                    .map_err(|e| scrub.error(e))
            }
            Err(e) => return Err(scrub.error(e)),
        };
        let events = match framing {
            Framing::Sse => crate::events::flat(
                crate::sse::events(bytes).map(|e| e.map(|e| e.data)),
                move |data: String| map(&data),
            ),
            Framing::Ndjson => {
                crate::events::flat(crate::sse::ndjson(bytes), move |line: String| map(&line))
            }
        };
        Ok(Box::pin(
            events.map(move |item| item.map_err(|e| scrub.error(e))),
        ))
    }
}

pub(crate) fn missing_key(var: &str) -> Error {
    Error::Config(format!(
        "{var} is not set; export it, or pass the key with `.api_key(..)`"
    ))
}
