//! Media message parts: [`Image`]s, PDF [`Document`]s and [`Audio`], made from a path, bytes,
//! a base64 string or a URL, with the media type sniffed from the bytes (the `infer` crate)
//! when it is not given; the [`MediaKind`] of a part; and what a provider takes of each kind
//! ([`MediaRules`], [`PartRule`]), checked by [`check`] before anything is sent.
//!
//! ```
//! use instructor_core::{media::MediaKind, Message, Part};
//! # let png = [0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R'];
//! let image = instructor_core::Image::from_bytes(&png)?; // `image/png`, sniffed
//! let m = Message::user_with_parts("Read this receipt.", [Part::from(image)]);
//! assert_eq!(m.content[1].media_kind(), Some(MediaKind::Image));
//! # Ok::<(), instructor_core::Error>(())
//! ```

mod check;
mod encode;
mod source;

pub use check::{check, MediaRules, PartRule};
pub use source::{Audio, Document, Image};

use std::fmt;

pub(crate) use encode::read as read_file;

/// The kind of media `bytes` hold, sniffed from their first bytes.
pub(crate) fn sniff_kind(bytes: &[u8]) -> Option<MediaKind> {
    infer::get(bytes).map(|t| MediaKind::of_media_type(t.mime_type()))
}

/// The kind of a media part, as errors and capabilities name it.
///
/// ```
/// use instructor_core::media::MediaKind;
/// assert_eq!(MediaKind::of_media_type("image/png"), MediaKind::Image);
/// assert_eq!(MediaKind::of_media_type("application/pdf"), MediaKind::Document);
/// assert_eq!(MediaKind::Audio.to_string(), "audio");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MediaKind {
    /// An image (`image/*`).
    Image,
    /// A document, such as a PDF (`application/pdf`).
    Document,
    /// Audio (`audio/*`).
    Audio,
}

impl MediaKind {
    /// The kind a media type names: `image/*` is an image, `audio/*` audio, anything else
    /// a document.
    ///
    /// ```
    /// use instructor_core::media::MediaKind;
    /// assert_eq!(MediaKind::of_media_type("audio/x-wav"), MediaKind::Audio);
    /// ```
    pub fn of_media_type(media_type: &str) -> Self {
        let top = media_type.split('/').next().unwrap_or_default();
        if top.eq_ignore_ascii_case("image") {
            MediaKind::Image
        } else if top.eq_ignore_ascii_case("audio") {
            MediaKind::Audio
        } else {
            MediaKind::Document
        }
    }

    /// The name used in errors: `image`, `document`, `audio`.
    ///
    /// ```
    /// assert_eq!(instructor_core::media::MediaKind::Document.as_str(), "document");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Document => "document",
            MediaKind::Audio => "audio",
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The largest file or byte string a media constructor takes (64 MiB): more than any
/// provider accepts inline, so a larger one fails before it is read and encoded.
///
/// ```
/// assert_eq!(instructor_core::media::MAX_BYTES, 64 * 1024 * 1024);
/// ```
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;
