//! The HTTP verbs batch APIs need beside the online POST: JSON calls with any method, a
//! file upload, and a results file read line by line. The same limits hold as online (the
//! whole-call timeout and body limit for replies read whole, the read timeout and a bounded
//! line for files streamed), redirects to another origin are refused, and every error has
//! the endpoint's secrets masked.

use futures::{Stream, StreamExt};
use instructor_core::Error;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use crate::endpoint::Endpoint;
use crate::http::{auth_headers, read_bounded, retry_after, status_error, transport_error, Reply};
use crate::scrub::Scrub;
use crate::translate::Translate;

/// One provider's endpoint (a cheap copy, so a results stream can outlive the call that
/// opened it) with the headers every batch call carries.
pub(crate) struct Wire {
    endpoint: Endpoint,
    headers: HeaderMap,
    scrub: Scrub,
}

impl Wire {
    /// The endpoint of translator `T`, checked as an online call's would be (a missing key
    /// is an error now).
    pub fn new<T: Translate>(endpoint: &Endpoint) -> Result<Self, Error> {
        let key = endpoint.ready()?;
        let mut headers = auth_headers(T::AUTH, key, &endpoint.headers)?;
        for (name, value) in T::HEADERS {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        Ok(Self {
            endpoint: endpoint.clone(),
            headers,
            scrub: endpoint.scrub(),
        })
    }

    /// `path` under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.base_url)
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<reqwest::Response, Error> {
        let http = &self.endpoint.http;
        let mut builder = http
            .client()?
            .request(method, url)
            .headers(self.headers.clone());
        if let Some((content_type, bytes)) = body {
            builder = builder.header(CONTENT_TYPE, content_type).body(bytes);
        }
        let response = builder.send().await.map_err(transport_error)?;
        crate::redirect::check(url, &response)?;
        Ok(response)
    }

    /// Sends a call and reads the whole reply (within the timeout and body limit): a
    /// success gives the body's text, an error status a typed error.
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<String, Error> {
        let options = self.endpoint.http.options();
        let whole = async {
            let response = self.send(method, url, body).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = read_bounded(response, options.max_body_bytes).await?;
            let body = String::from_utf8(bytes).map_err(|e| Error::Protocol {
                message: "the response body is not UTF-8".to_owned(),
                raw: None,
                source: Some(Box::new(e.utf8_error())),
            })?;
            if (200..300).contains(&status) {
                return Ok(body);
            }
            let hint = retry_after(&headers);
            Err(status_error(
                Reply {
                    status,
                    headers,
                    body,
                },
                false,
                hint,
            ))
        };
        match tokio::time::timeout(options.timeout, whole).await {
            Ok(result) => result.map_err(|e| self.scrub.error(e)),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// POSTs a JSON body.
    pub async fn post_json(&self, url: &str, body: Vec<u8>) -> Result<String, Error> {
        self.call(Method::POST, url, Some(("application/json", body)))
            .await
    }

    /// GETs a JSON document.
    pub async fn get(&self, url: &str) -> Result<String, Error> {
        self.call(Method::GET, url, None).await
    }

    /// GETs a JSON-lines file and yields its non-empty lines as they arrive: memory holds
    /// one line (at most the stream line limit), never the file. An error status is a typed
    /// error before any line.
    pub async fn lines(
        &self,
        url: &str,
    ) -> Result<impl Stream<Item = Result<String, Error>> + Send + 'static, Error> {
        let response = match self.send(Method::GET, url, None).await {
            Ok(r) => r,
            Err(e) => return Err(self.scrub.error(e)),
        };
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let headers = response.headers().clone();
            let max = self.endpoint.http.options().max_body_bytes;
            let body = read_bounded(response, max)
                .await
                .map_err(|e| self.scrub.error(e))?;
            let reply = Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            };
            return Err(self.scrub.error(status_error(reply, false, None)));
        }
        let bytes = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(transport_error));
        let scrub = self.scrub.clone();
        Ok(crate::sse::ndjson(Box::pin(bytes)).map(move |line| line.map_err(|e| scrub.error(e))))
    }
}

/// Checks a batch id given back by a caller before it goes into a URL path: the characters
/// providers use in ids, and nothing that climbs out of the path.
pub(crate) fn check_id(id: &str) -> Result<&str, Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
    if id.is_empty()
        || !id.chars().all(allowed)
        || id.starts_with('/')
        || id
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Error::Config(format!(
            "`{}` is not a batch id (letters, digits, `-`, `_`, `.` and `/` between names)",
            id.escape_debug()
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::check_id;

    #[test]
    fn batch_ids_cannot_climb_out_of_the_path() {
        for good in [
            "batch_abc123",
            "msgbatch_01X",
            "batches/abc-1",
            "file-xyz.jsonl",
        ] {
            assert_eq!(check_id(good).ok(), Some(good));
        }
        for bad in [
            "",
            "../files",
            "batches/../x",
            "/abs",
            "a//b",
            "a b",
            "a?key=1",
            "a%2F",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }
}
