//! What every HTTP provider holds besides its wire format: where to send, the key, extra
//! headers, the HTTP client and a default model; and the setters that adjust them.

use std::fmt;

use instructor_core::Error;
use reqwest::header::HeaderMap;

use crate::http::{parse_header, Http};
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
            .field("base_url", &self.base_url)
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

impl Endpoint {
    /// POSTs `body` to `url`: a success body goes through `ok`, an error reply through
    /// `fail`.
    pub async fn exchange(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
        ok: fn(String) -> Result<instructor_core::Response, Error>,
        fail: fn(crate::http::Reply) -> Error,
    ) -> Result<instructor_core::Response, Error> {
        let reply = self.http.post_json(url, headers, body).await?;
        if (200..300).contains(&reply.status) {
            ok(reply.body)
        } else {
            Err(fail(reply))
        }
    }

    /// POSTs `body` to `url` for a stream: the body's bytes, or the error reply through
    /// `fail`.
    pub async fn open(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
        fail: fn(crate::http::Reply) -> Error,
    ) -> Result<crate::sse::ByteStream, Error> {
        self.http
            .post_stream(url, headers, body)
            .await?
            .map_err(fail)
    }
}

pub(crate) fn missing_key(var: &str) -> Error {
    Error::Config(format!(
        "{var} is not set; export it, or pass the key with `.api_key(..)`"
    ))
}

/// The consuming setters every HTTP provider offers, forwarding to its [`Endpoint`] field
/// (`endpoint_setters!(endpoint)`, or a longer path such as `inner.endpoint`).
macro_rules! endpoint_setters {
    ($($field:ident).+) => {
        /// Sets the API key (overriding the environment).
        pub fn api_key(mut self, key: impl Into<String>) -> Self {
            self.$($field).+.key = Some($crate::ApiKey::new(key));
            self
        }

        /// Sets the base URL (a proxy, another region, or a mock server in tests).
        pub fn base_url(mut self, url: impl Into<String>) -> Self {
            self.$($field).+.base_url = url.into().trim_end_matches('/').to_owned();
            self
        }

        /// The model used when neither the client nor the call names one.
        pub fn default_model(mut self, model: impl Into<String>) -> Self {
            self.$($field).+.default_model = Some(model.into());
            self
        }

        /// Adds a header to every request (an invalid one is reported by the first call).
        pub fn header(mut self, name: &str, value: &str) -> Self {
            self.$($field).+.set_header(name, value);
            self
        }

        /// Timeouts and the response body limit.
        pub fn http_options(mut self, options: $crate::HttpOptions) -> Self {
            self.$($field).+.set_http_options(options);
            self
        }

        /// Uses the caller's own `reqwest` client (its pool, proxy and TLS settings).
        pub fn http_client(mut self, client: reqwest::Client) -> Self {
            self.$($field).+.http = $crate::http::Http::with_client(client);
            self
        }

        /// The base URL requests go to.
        pub fn url(&self) -> &str {
            &self.$($field).+.base_url
        }

        /// Checks the configuration as the first request would (missing key, bad header).
        #[allow(dead_code)]
        pub(crate) fn check(&self) -> Result<(), instructor_core::Error> {
            self.$($field).+.ready().map(|_| ())
        }
    };
}

pub(crate) use endpoint_setters;
