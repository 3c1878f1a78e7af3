//! Redirects. Model APIs do not redirect in normal use, and following one to another origin
//! would carry headers that `reqwest` does not know are credentials (`x-api-key`,
//! `x-goog-api-key`) and, on 307 and 308, the prompt. Our clients follow a few same-origin
//! redirects and stop at any other; a redirect that comes back, or a caller's own client
//! that ended up at another origin, is [`Error::Redirect`].

use instructor_core::Error;
use reqwest::header::LOCATION;
use reqwest::redirect::{Attempt, Policy};
use reqwest::Url;

use crate::scrub::redirect_target;

/// The most same-origin redirects followed for one request.
pub(crate) const MAX_FOLLOWED: usize = 5;

/// Follow same-origin redirects (same scheme, host and port), at most [`MAX_FOLLOWED`];
/// stop at a redirect to another origin, so that it comes back as the response.
pub(crate) fn policy() -> Policy {
    Policy::custom(decide)
}

fn decide(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    // `previous` starts with the URL first requested.
    let previous = attempt.previous();
    let same_origin = previous
        .first()
        .is_some_and(|first| first.origin() == attempt.url().origin());
    if !same_origin {
        attempt.stop()
    } else if previous.len() > MAX_FOLLOWED {
        attempt.error(format!("more than {MAX_FOLLOWED} redirects"))
    } else {
        attempt.follow()
    }
}

/// Checks a response before it is read: a redirect that came back (our clients stop at one
/// to another origin) is [`Error::Redirect`]; so is a response from another origin than
/// `requested` (a caller's own client followed a redirect there; which status it followed
/// is not known, so the error's status is 0). A 3xx without a usable `Location` passes,
/// to be mapped as any other error status.
pub(crate) fn check(requested: &str, response: &reqwest::Response) -> Result<(), Error> {
    let status = response.status();
    if status.is_redirection() {
        let target = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|location| response.url().join(location.trim()).ok());
        return match target {
            Some(target) => Err(Error::Redirect {
                status: status.as_u16(),
                location: redirect_target(&target),
            }),
            None => Ok(()),
        };
    }
    match Url::parse(requested) {
        Ok(requested) if requested.origin() != response.url().origin() => Err(Error::Redirect {
            status: 0,
            location: redirect_target(response.url()),
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Http;
    use reqwest::header::HeaderMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// A one-request HTTP server on 127.0.0.1: reads a request, answers `reply` (with
    /// `{port}` replaced by `target`'s port). The flag says whether it was asked at all.
    async fn server(reply: &'static str, target: u16) -> (u16, Arc<AtomicBool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let reply = reply.replace("{port}", &target.to_string());
        let asked = Arc::new(AtomicBool::new(false));
        let flag = asked.clone();
        // Ends with its request, or with the test's runtime.
        tokio::spawn(async move {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            flag.store(true, Ordering::SeqCst);
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Headers, then the body its Content-Length announces.
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|n| n.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
        (port, asked)
    }

    const OK: &str =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    const AWAY: &str = "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://u:sk-SECRET-0123@127.0.0.1:{port}/v1?key=sk-SECRET-0123\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

    #[tokio::test]
    async fn our_client_stops_at_another_origin() {
        let (other, other_asked) = server(OK, 0).await;
        let (first, _) = server(AWAY, other).await;
        let http = Http::shared();
        let url = format!("http://127.0.0.1:{first}/v1/chat");
        let err = http
            .post_json(&url, &HeaderMap::new(), b"{}".to_vec())
            .await
            .unwrap_err();
        let Error::Redirect { status, location } = err else {
            panic!("{err:?}")
        };
        assert_eq!(status, 307);
        assert_eq!(location, format!("http://127.0.0.1:{other}/v1"));
        assert!(
            !other_asked.load(Ordering::SeqCst),
            "the other origin was not asked"
        );
    }

    #[tokio::test]
    async fn a_callers_client_that_followed_is_caught() {
        let http = Http::with_client(reqwest::Client::new());
        for stream in [false, true] {
            let (other, _) = server(OK, 0).await;
            let (first, _) = server(AWAY, other).await;
            let url = format!("http://127.0.0.1:{first}/v1/chat");
            let err = if stream {
                http.post_stream(&url, &HeaderMap::new(), b"{}".to_vec())
                    .await
                    .err()
            } else {
                http.post_json(&url, &HeaderMap::new(), b"{}".to_vec())
                    .await
                    .err()
            };
            let Some(Error::Redirect { status, location }) = err else {
                panic!("stream {stream}: {err:?}")
            };
            assert_eq!(status, 0, "the followed status is not known");
            assert_eq!(location, format!("http://127.0.0.1:{other}/v1"));
        }
    }

    #[test]
    fn same_origin_is_scheme_host_and_port() {
        let origin = |url: &str| Url::parse(url).unwrap().origin();
        let a = origin("http://127.0.0.1:80/v1");
        assert_eq!(a, origin("http://127.0.0.1/x"));
        for other in [
            "https://127.0.0.1/v1",
            "http://127.0.0.1:81/v1",
            "http://localhost/v1",
        ] {
            assert_ne!(a, origin(other), "{other}");
        }
    }
}
