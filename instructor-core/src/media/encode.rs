//! Bytes to a part's media type and base64 text: sniffing (`infer`), encoding, decoding a
//! base64 string or a `data:` URL, the decoded size of base64 text, reading a file under the
//! size ceiling. Every failure is [`Error::Media`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{MediaKind, MAX_BYTES};
use crate::Error;

pub(crate) fn media_error(message: impl Into<String>) -> Error {
    Error::Media {
        message: message.into(),
        source: None,
    }
}

/// The media type of `bytes`, sniffed from their first bytes, which must be of `kind`.
pub(crate) fn sniff(bytes: &[u8], kind: MediaKind) -> Result<String, Error> {
    let Some(found) = infer::get(bytes) else {
        return Err(media_error(format!(
            "the media type of the {kind} could not be recognized from its bytes; give it"
        )));
    };
    let media_type = found.mime_type();
    expect_kind(media_type, kind)?;
    Ok(media_type.to_owned())
}

/// `media_type` must name a part of `kind`.
pub(crate) fn expect_kind(media_type: &str, kind: MediaKind) -> Result<(), Error> {
    let is = MediaKind::of_media_type(media_type);
    if is != kind {
        return Err(media_error(format!(
            "the bytes are `{media_type}` (a {is}), not a {kind}"
        )));
    }
    Ok(())
}

fn within_ceiling(len: u64) -> Result<(), Error> {
    if len > MAX_BYTES {
        return Err(media_error(format!(
            "{len} bytes is over the {MAX_BYTES}-byte ceiling for a media part"
        )));
    }
    Ok(())
}

/// `bytes` as base64 text, after the ceiling check.
pub(crate) fn encode(bytes: &[u8]) -> Result<String, Error> {
    within_ceiling(bytes.len() as u64)?;
    Ok(STANDARD.encode(bytes))
}

/// Decoded bytes of base64 text (surrounding whitespace ignored).
pub(crate) fn decode(data: &str) -> Result<Vec<u8>, Error> {
    within_ceiling(decoded_len(data))?;
    STANDARD.decode(data.trim()).map_err(|e| Error::Media {
        message: "the base64 text does not decode".to_owned(),
        source: Some(Box::new(e)),
    })
}

/// How many bytes base64 text decodes to, from its length alone.
pub(crate) fn decoded_len(data: &str) -> u64 {
    let data = data.trim();
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    ((data.len() as u64) * 3 / 4).saturating_sub(padding as u64)
}

/// A `data:<type>;base64,<data>` URL's media type and data.
pub(crate) fn data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// A file's bytes, refusing one over the ceiling before reading it.
pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    let io = |e: std::io::Error| Error::Media {
        message: format!("could not read {}", path.display()),
        source: Some(Box::new(e)),
    };
    within_ceiling(std::fs::metadata(path).map_err(io)?.len())?;
    std::fs::read(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_length_counts_padding() {
        for bytes in [&b""[..], b"a", b"ab", b"abc", b"abcd", b"hello world"] {
            assert_eq!(decoded_len(&STANDARD.encode(bytes)), bytes.len() as u64);
        }
    }

    #[test]
    fn data_urls_split_into_type_and_data() {
        assert_eq!(
            data_url("data:image/png;base64,iVBO"),
            Some(("image/png", "iVBO"))
        );
        assert_eq!(data_url("https://x/y.png"), None);
        assert_eq!(data_url("data:text/plain,hi"), None);
    }
}
