//! What must never leave a provider: its key in the text of an error (a server may echo it
//! back in an error body or an in-band stream error), and credentials in a printed URL
//! (userinfo, query values).

use std::sync::Arc;

use instructor_core::{Error, Response, ToolArguments};
use reqwest::header::HeaderMap;

use crate::ApiKey;

/// What a secret is replaced with.
const MASK: &str = "****";

/// Shorter strings are not treated as secrets: replacing every occurrence of a one-letter
/// test key would garble every message, and such a key protects nothing.
const MIN_SECRET: usize = 8;

/// The secrets of one endpoint (its key, credential-like extra headers, credentials in its
/// base URL), removed from every error it returns. Cheap to clone; never printed.
#[derive(Clone, Default)]
pub(crate) struct Scrub {
    secrets: Arc<[String]>,
}

impl Scrub {
    /// The secrets of an endpoint with this key, these extra headers and this base URL.
    pub fn new(key: Option<&ApiKey>, headers: &HeaderMap, base_url: &str) -> Self {
        let mut secrets: Vec<String> = Vec::new();
        if let Some(key) = key {
            secrets.push(key.expose().to_owned());
        }
        for (name, value) in headers {
            let name = name.as_str();
            let credential = value.is_sensitive()
                || ["auth", "key", "token", "secret", "password"]
                    .iter()
                    .any(|word| name.contains(word));
            if let (true, Ok(value)) = (credential, value.to_str()) {
                // `Bearer <token>`: the token alone may be echoed.
                if let Some((_, token)) = value.split_once(' ') {
                    secrets.push(token.trim().to_owned());
                }
                secrets.push(value.to_owned());
            }
        }
        secrets.extend(url_secrets(base_url));
        secrets.retain(|s| s.len() >= MIN_SECRET);
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self {
            secrets: secrets.into(),
        }
    }

    /// `text` with every secret masked.
    pub fn text(&self, mut text: String) -> String {
        for secret in self.secrets.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), MASK);
            }
        }
        text
    }

    /// `response` with every secret masked in its raw body, text, refusal and tool
    /// arguments: a server may echo the key in what it calls an answer too, and the raw
    /// body reaches hooks and, on a failed parse, errors.
    pub fn response(&self, mut response: Response) -> Response {
        if self.secrets.is_empty() {
            return response;
        }
        response.raw = response.raw.map(|r| self.text(r));
        response.text = response.text.map(|t| self.text(t));
        response.refusal = response.refusal.map(|r| self.text(r));
        for call in &mut response.tool_calls {
            let text = call.arguments.to_text();
            if self.secrets.iter().any(|s| text.contains(s.as_str())) {
                call.arguments = ToolArguments::Text(self.text(text.into_owned()));
            }
        }
        response
    }

    /// `error` with every secret masked in the text it keeps.
    pub fn error(&self, error: Error) -> Error {
        if self.secrets.is_empty() {
            return error;
        }
        let t = |s: String| self.text(s);
        match error {
            Error::Http { status, body } => Error::Http {
                status,
                body: t(body),
            },
            Error::RateLimited { retry_after, body } => Error::RateLimited {
                retry_after,
                body: t(body),
            },
            Error::QuotaExhausted { status, body } => Error::QuotaExhausted {
                status,
                body: t(body),
            },
            Error::Protocol {
                message,
                raw,
                source,
            } => Error::Protocol {
                message: t(message),
                raw: raw.map(t),
                source,
            },
            Error::Redirect { status, location } => Error::Redirect {
                status,
                location: t(location),
            },
            Error::Connect { message, source } => Error::Connect {
                message: t(message),
                source,
            },
            Error::Parse { raw, message } => Error::Parse {
                raw: t(raw),
                message: t(message),
            },
            Error::Config(message) => Error::Config(t(message)),
            other => other,
        }
    }
}

/// The parts of a URL that may be credentials: userinfo and query values.
fn url_secrets(url: &str) -> Vec<String> {
    let parts = UrlParts::split(url);
    let mut out = Vec::new();
    if let Some(userinfo) = parts.userinfo {
        out.extend(userinfo.split(':').map(str::to_owned));
    }
    if let Some(query) = parts.query {
        for pair in query.split('&') {
            let value = pair.split_once('=').map_or(pair, |(_, v)| v);
            out.push(value.to_owned());
        }
    }
    out
}

/// A URL cut into the pieces that matter here, by its text alone (so that even a URL that
/// does not parse can be shown without its credentials).
struct UrlParts<'a> {
    /// `scheme://`, or empty.
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// Host, port and path.
    rest: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

impl<'a> UrlParts<'a> {
    fn split(url: &'a str) -> Self {
        let (url, fragment) = match url.split_once('#') {
            Some((u, f)) => (u, Some(f)),
            None => (url, None),
        };
        let (url, query) = match url.split_once('?') {
            Some((u, q)) => (u, Some(q)),
            None => (url, None),
        };
        let (scheme, after) = match url.find("://") {
            Some(i) => url.split_at(i + 3),
            None => ("", url),
        };
        let authority_end = after.find(['/', '\\']).unwrap_or(after.len());
        let (userinfo, rest) = match after[..authority_end].rfind('@') {
            Some(at) => (Some(&after[..at]), &after[at + 1..]),
            None => (None, after),
        };
        Self {
            scheme,
            userinfo,
            rest,
            query,
            fragment,
        }
    }
}

/// A URL fit to print: userinfo, query values and the fragment masked; scheme, host, port,
/// path and query names kept.
///
/// `https://user:KEY@host/v1?key=KEY` becomes `https://****@host/v1?key=****`.
pub(crate) fn redact_url(url: &str) -> String {
    let parts = UrlParts::split(url);
    let mut out = String::with_capacity(url.len());
    out.push_str(parts.scheme);
    if parts.userinfo.is_some() {
        out.push_str(MASK);
        out.push('@');
    }
    out.push_str(parts.rest);
    if let Some(query) = parts.query {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(MASK);
                }
                None if pair.is_empty() => {}
                None => out.push_str(MASK),
            }
        }
    }
    if parts.fragment.is_some_and(|f| !f.is_empty()) {
        out.push('#');
        out.push_str(MASK);
    }
    out
}

/// Where a redirect pointed, fit to print: the URL without userinfo, query or fragment.
pub(crate) fn redirect_target(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    // Only fails for URLs that cannot have credentials, which then have none to remove.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    const KEY: &str = "sk-SECRET-0123456789";

    #[test]
    fn urls_lose_credentials() {
        assert_eq!(
            redact_url(&format!(
                "https://user:{KEY}@host:8443/v1?key={KEY}&alt=sse#{KEY}"
            )),
            "https://****@host:8443/v1?key=****&alt=****#****"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8000/v1"),
            "http://127.0.0.1:8000/v1"
        );
        assert_eq!(redact_url(&format!("host/v1?{KEY}")), "host/v1?****");
        assert_eq!(redact_url(""), "");
        let url = reqwest::Url::parse(&format!("https://u:{KEY}@h.example/p?key={KEY}#f")).unwrap();
        assert_eq!(redirect_target(&url), "https://h.example/p");
    }

    #[test]
    fn errors_lose_the_key_and_other_credentials() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-custom-token",
            HeaderValue::from_static("Bearer tok-0123456789"),
        );
        headers.insert("x-trace", HeaderValue::from_static("trace-0123456789"));
        let scrub = Scrub::new(
            Some(&ApiKey::new(KEY)),
            &headers,
            "https://user:pass-0123456789@host/v1?key=query-0123456789",
        );
        let body = format!(
            "invalid key {KEY}; token tok-0123456789, pass-0123456789, query-0123456789, trace-0123456789"
        );
        let e = scrub.error(Error::Http {
            status: 401,
            body: body.clone(),
        });
        let text = format!("{e} {e:?}");
        for secret in [KEY, "tok-0123456789", "pass-0123456789", "query-0123456789"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("trace-0123456789"), "not a credential");
        let e = scrub.error(Error::Protocol {
            message: format!("bad {KEY}"),
            raw: Some(body),
            source: None,
        });
        assert!(!format!("{e:?}").contains(KEY));
        // A short key is left alone.
        let scrub = Scrub::new(Some(&ApiKey::new("k")), &HeaderMap::new(), "");
        assert_eq!(scrub.text("a key".to_owned()), "a key");
    }
}
