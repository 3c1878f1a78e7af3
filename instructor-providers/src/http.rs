//! The HTTP layer every provider shares: one pooled `reqwest` client (rustls), JSON POSTs
//! with bounded bodies and timeouts, and the mapping of HTTP failures to typed errors. A
//! hostile or broken server cannot make a call hang past its timeouts, read more than the
//! body limit into memory, hand invalid UTF-8 to a parser, send the key or the prompt to
//! another origin by a redirect, or panic the caller with an absurd `Retry-After`.

use std::sync::OnceLock;
use std::time::Duration;

use instructor_core::Error;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE};

use crate::ApiKey;

/// Limits and timeouts of a provider's HTTP calls.
///
/// ```
/// use std::time::Duration;
/// use instructor_providers::HttpOptions;
/// let o = HttpOptions { timeout: Duration::from_secs(30), ..HttpOptions::default() };
/// assert_eq!(o.max_body_bytes, 16 * 1024 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// The longest a whole call may take.
    pub timeout: Duration,
    /// The longest to wait for a connection.
    pub connect_timeout: Duration,
    /// The longest to wait between two reads of the body.
    pub read_timeout: Duration,
    /// The most bytes of a response body read into memory; more is an error.
    pub max_body_bytes: usize,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// A pooled client plus limits; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    /// The client, or why it could not be built (reported by the first call).
    client: Result<reqwest::Client, String>,
    options: HttpOptions,
}

/// A response read whole: status, headers and the UTF-8 body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

fn shared_client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| build_client(&HttpOptions::default()).map_err(|e| e.to_string()))
        .clone()
}

fn build_client(options: &HttpOptions) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .redirect(crate::redirect::policy())
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .build()
        .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))
}

impl Http {
    /// The process-wide client with default limits.
    pub(crate) fn shared() -> Self {
        Self {
            client: shared_client(),
            options: HttpOptions::default(),
        }
    }

    /// A client with its own limits.
    pub(crate) fn with_options(options: HttpOptions) -> Result<Self, Error> {
        Ok(Self {
            client: Ok(build_client(&options)?),
            options,
        })
    }

    /// A caller's own `reqwest` client with default limits.
    pub(crate) fn with_client(client: reqwest::Client) -> Self {
        Self {
            client: Ok(client),
            options: HttpOptions::default(),
        }
    }

    /// The client, or why it could not be built.
    pub(crate) fn client(&self) -> Result<&reqwest::Client, Error> {
        self.client.as_ref().map_err(|e| Error::Config(e.clone()))
    }

    /// The limits and timeouts.
    pub(crate) fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// POSTs a JSON body and reads the whole reply (bounded).
    pub(crate) async fn post_json(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Reply, Error> {
        let response = self
            .post(url, headers, body, Some(self.options.timeout))
            .await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_bounded(response, self.options.max_body_bytes).await?;
        let body = String::from_utf8(body).map_err(|e| Error::Protocol {
            message: format!(
                "the response body is not UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
            raw: Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            source: Some(Box::new(e.utf8_error())),
        })?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

impl Http {
    /// POSTs a JSON body, within `timeout` for the whole call when given (a stream has only
    /// the read timeout between chunks); an answer from another origin is refused.
    async fn post(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, Error> {
        let client = self.client.as_ref().map_err(|e| Error::Config(e.clone()))?;
        let mut builder = client
            .post(url)
            .headers(headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        let response = builder.send().await.map_err(transport_error)?;
        crate::redirect::check(url, &response)?;
        Ok(response)
    }

    /// POSTs a JSON body for a streamed answer. A success status gives the body as a byte
    /// stream (its total size bounded); an error status is read whole and returned as the
    /// reply, for the provider to map.
    pub(crate) async fn post_stream(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Result<crate::sse::ByteStream, Reply>, Error> {
        use futures::StreamExt;
        let response = self.post(url, headers, body, None).await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let headers = response.headers().clone();
            let body = read_bounded(response, self.options.max_body_bytes).await?;
            return Ok(Err(Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            }));
        }
        let max = self.options.max_body_bytes;
        let mut seen = 0usize;
        let bytes = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(transport_error)?;
            seen += chunk.len();
            if seen > max {
                return Err(Error::LimitExceeded {
                    what: "streamed response bytes".to_owned(),
                    limit: max,
                });
            }
            Ok(chunk)
        });
        Ok(Ok(Box::pin(bytes)))
    }
}

pub(crate) async fn read_bounded(
    mut response: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(8 * 1024, |n| (n as usize).min(max)),
    );
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > max {
            return Err(Error::Protocol {
                message: format!("the response body is larger than the {max}-byte limit"),
                raw: None,
                source: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Maps a `reqwest` failure: timeouts are [`Error::Timeout`], too many redirects a
/// (permanent) protocol error, the rest connection errors. The message never includes the
/// URL or request headers.
pub(crate) fn transport_error(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else if e.is_redirect() {
        Error::Protocol {
            message: format!(
                "the server redirected more than {} times",
                crate::redirect::MAX_FOLLOWED
            ),
            raw: None,
            source: Some(Box::new(e.without_url())),
        }
    } else {
        let e = e.without_url();
        Error::Connect {
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}

/// The longest wait a server's hint is taken at; a longer one is clamped to it (the
/// client's retry budget then ends the retries at once).
pub(crate) const MAX_RETRY_HINT: Duration = Duration::from_secs(24 * 60 * 60);

/// A server's wait in seconds as a duration: `None` for NaN, infinities and negative
/// values, clamped to [`MAX_RETRY_HINT`]. Never panics, whatever the server sent.
fn hint_from_secs(secs: f64) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(secs).map_or(MAX_RETRY_HINT, |d| d.min(MAX_RETRY_HINT)))
}

/// `Retry-After` in any of the forms servers send: `retry-after-ms`, seconds, an HTTP date.
/// Values that make no sense are ignored; absurdly long ones clamped.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let ms = get("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| hint_from_secs(ms / 1000.0));
    if ms.is_some() {
        return ms;
    }
    let value = get("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return hint_from_secs(secs);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_HINT),
    )
}

/// Parses a duration like Google's `"30s"` or `"1.5s"` (as [`retry_after`] does seconds).
pub(crate) fn seconds_suffix(value: &str) -> Option<Duration> {
    value
        .trim()
        .strip_suffix('s')
        .and_then(|n| n.parse::<f64>().ok())
        .and_then(hint_from_secs)
}

/// Maps an error status to a typed error. `quota` says whether the body reports an
/// exhausted quota or credit (not retryable even on 429).
pub(crate) fn status_error(reply: Reply, quota: bool, retry_hint: Option<Duration>) -> Error {
    let Reply {
        status,
        headers,
        body,
    } = reply;
    if quota || status == 402 {
        return Error::QuotaExhausted { status, body };
    }
    if status == 429 {
        return Error::RateLimited {
            retry_after: retry_after(&headers).or(retry_hint),
            body,
        };
    }
    Error::Http { status, body }
}

/// How a provider's key travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key itself in this header (`x-api-key`, `x-goog-api-key`).
    Header(&'static str),
}

/// Request headers: the caller's extras plus the key as `auth` says, marked sensitive (no
/// key, no header).
pub(crate) fn auth_headers(
    auth: Auth,
    key: Option<&ApiKey>,
    extra: &HeaderMap,
) -> Result<HeaderMap, Error> {
    let mut headers = extra.clone();
    let Some(key) = key else {
        return Ok(headers);
    };
    let (name, value) = match auth {
        Auth::Bearer => (AUTHORIZATION, format!("Bearer {}", key.expose())),
        Auth::Header(name) => (HeaderName::from_static(name), key.expose().to_owned()),
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        Error::Config("the API key contains characters not allowed in a header".to_owned())
    })?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(headers)
}

/// Parses extra headers given as name/value pairs.
pub(crate) fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), Error> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| Error::Config(format!("invalid header name `{name}`")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| Error::Config(format!("invalid value for header `{name}`")))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after-ms", HeaderValue::from_static("1500"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&h),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(seconds_suffix("30s"), Some(Duration::from_secs(30)));
    }

    #[test]
    fn hostile_retry_hints_neither_panic_nor_wait_forever() {
        let day = Some(MAX_RETRY_HINT);
        for (name, value, expected) in [
            ("retry-after", "inf", None),
            ("retry-after", "-inf", None),
            ("retry-after", "NaN", None),
            ("retry-after", "-5", None),
            ("retry-after", "1e20", day),
            ("retry-after", "1e300", day),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", day),
            ("retry-after-ms", "1e30", day),
            ("retry-after-ms", "inf", None),
            ("retry-after-ms", "NaN", None),
            ("retry-after-ms", "-1", None),
            ("retry-after-ms", "250", Some(Duration::from_millis(250))),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            assert_eq!(retry_after(&h), expected, "{name}: {value}");
        }
        for (value, expected) in [
            ("1e30s", day),
            ("infs", None),
            ("NaNs", None),
            ("-1s", None),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("s", None),
        ] {
            assert_eq!(seconds_suffix(value), expected, "{value}");
        }
    }
}
