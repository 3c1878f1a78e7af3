//! The three media part types, each a URL or base64 bytes with their media type (declared
//! once, by `media_enum!`), and the constructors they share (written once, by
//! `media_part!`): from a URL (a `data:` URL becomes bytes), from bytes, from base64 text and
//! from a file, the media type sniffed from the bytes when it is not given.

use std::path::Path;

use serde::Serialize;

use super::encode::{data_url, decode, encode, expect_kind, read, sniff};
use super::MediaKind;
use crate::Error;

/// A media part type: a URL, or base64 bytes with their media type.
macro_rules! media_enum {
    (
        $(#[$doc:meta])*
        $ty:ident {
            url: $url:literal,
            base64: $base64:literal,
            media_type: $media_type:literal $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum $ty {
            #[doc = $url]
            Url(String),
            #[doc = $base64]
            Base64 {
                #[doc = $media_type]
                media_type: String,
                /// The encoded bytes.
                data: String,
            },
        }
    };
}

media_enum! {
    /// An image given to a vision model.
    ///
    /// ```
    /// use instructor_core::Image;
    /// let by_url = Image::from_url("https://example.com/receipt.png");
    /// assert!(matches!(by_url, Image::Url(_)));
    /// ```
    Image {
        url: "An image at a URL.",
        base64: "Base64-encoded bytes with their media type (`image/png`).",
        media_type: "`image/png`, `image/jpeg`, ...",
    }
}

media_enum! {
    /// A document (a PDF) given to a model that reads them.
    ///
    /// ```
    /// use instructor_core::Document;
    /// let pdf = Document::from_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")?;
    /// assert!(matches!(pdf, Document::Base64 { ref media_type, .. } if media_type == "application/pdf"));
    /// # Ok::<(), instructor_core::Error>(())
    /// ```
    Document {
        url: "A document at a URL.",
        base64: "Base64-encoded bytes with their media type (`application/pdf`).",
        media_type: "`application/pdf`.",
    }
}

media_enum! {
    /// Audio given to a model that listens.
    ///
    /// ```
    /// use instructor_core::Audio;
    /// let clip = Audio::from_base64_with_type("UklGRg==", "audio/wav")?;
    /// assert!(matches!(clip, Audio::Base64 { .. }));
    /// # Ok::<(), instructor_core::Error>(())
    /// ```
    Audio {
        url: "Audio at a URL.",
        base64: "Base64-encoded bytes with their media type (`audio/wav`, `audio/mpeg`).",
        media_type: "`audio/wav`, `audio/mpeg`, ...",
    }
}

macro_rules! media_part {
    ($ty:ident, $kind:expr, $name:literal, $sample:literal, $type:literal) => {
        impl $ty {
            #[doc = concat!("The ", $name, " at `url`. A `data:<type>;base64,<data>` URL becomes")]
            /// base64 bytes with that media type (providers that take bytes only can then send
            /// it).
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let by_url = ", stringify!($ty), "::from_url(\"https://example.com/x\");")]
            #[doc = concat!("assert_eq!(by_url, ", stringify!($ty), "::Url(\"https://example.com/x\".into()));")]
            #[doc = concat!("let inline = ", stringify!($ty), "::from_url(\"data:", $type, ";base64,AAAA\");")]
            #[doc = concat!("assert!(matches!(inline, ", stringify!($ty), "::Base64 { .. }));")]
            /// ```
            pub fn from_url(url: impl Into<String>) -> Self {
                let url = url.into();
                match data_url(&url) {
                    Some((media_type, data)) => $ty::Base64 {
                        media_type: media_type.to_owned(),
                        data: data.to_owned(),
                    },
                    None => $ty::Url(url),
                }
            }

            #[doc = concat!("The ", $name, " in `bytes`, its media type sniffed from them; bytes")]
            #[doc = concat!("of no known type, or of a type that is not a ", $name, ", are [`Error::Media`].")]
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let bytes = ", $sample, ";")]
            #[doc = concat!("let part = ", stringify!($ty), "::from_bytes(&bytes)?;")]
            #[doc = concat!("assert!(matches!(part, ", stringify!($ty), "::Base64 { ref media_type, .. } if media_type == \"", $type, "\"));")]
            #[doc = concat!("assert!(", stringify!($ty), "::from_bytes(b\"plain text\").is_err());")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
                let media_type = sniff(bytes, $kind)?;
                Ok($ty::Base64 {
                    media_type,
                    data: encode(bytes)?,
                })
            }

            #[doc = concat!("The ", $name, " in `bytes`, of the media type given (which must name a ", $name, ").")]
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let part = ", stringify!($ty), "::from_bytes_with_type(b\"...\", \"", $type, "\")?;")]
            #[doc = concat!("assert!(matches!(part, ", stringify!($ty), "::Base64 { .. }));")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn from_bytes_with_type(bytes: &[u8], media_type: &str) -> Result<Self, Error> {
                expect_kind(media_type, $kind)?;
                Ok($ty::Base64 {
                    media_type: media_type.to_owned(),
                    data: encode(bytes)?,
                })
            }

            #[doc = concat!("The ", $name, " in base64 text (or a `data:` URL), its media type sniffed")]
            /// from the decoded bytes. Text that does not decode is [`Error::Media`].
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            /// # use base64::Engine as _;
            #[doc = concat!("let bytes = ", $sample, ";")]
            /// let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
            #[doc = concat!("let part = ", stringify!($ty), "::from_base64(text)?;")]
            #[doc = concat!("assert!(matches!(part, ", stringify!($ty), "::Base64 { ref media_type, .. } if media_type == \"", $type, "\"));")]
            #[doc = concat!("assert!(", stringify!($ty), "::from_base64(\"not base64!\").is_err());")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn from_base64(data: impl Into<String>) -> Result<Self, Error> {
                let data = data.into();
                if let Some((media_type, inline)) = data_url(&data) {
                    return Self::from_base64_with_type(inline, media_type);
                }
                let media_type = sniff(&decode(&data)?, $kind)?;
                Ok($ty::Base64 {
                    media_type,
                    data: data.trim().to_owned(),
                })
            }

            #[doc = concat!("The ", $name, " in base64 text, of the media type given (which must name a ", $name, ");")]
            /// the text is checked to decode.
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let part = ", stringify!($ty), "::from_base64_with_type(\"AAAA\", \"", $type, "\")?;")]
            #[doc = concat!("assert!(matches!(part, ", stringify!($ty), "::Base64 { .. }));")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn from_base64_with_type(
                data: impl Into<String>,
                media_type: &str,
            ) -> Result<Self, Error> {
                let data = data.into();
                expect_kind(media_type, $kind)?;
                decode(&data)?;
                Ok($ty::Base64 {
                    media_type: media_type.to_owned(),
                    data: data.trim().to_owned(),
                })
            }

            #[doc = concat!("The ", $name, " in the file at `path`, its media type sniffed from its bytes.")]
            /// A file over [`MAX_BYTES`](super::MAX_BYTES) is refused before it is read.
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let path = std::env::temp_dir().join(\"instructor-doc-", $name, "\");")]
            #[doc = concat!("std::fs::write(&path, ", $sample, ").unwrap();")]
            #[doc = concat!("let part = ", stringify!($ty), "::from_path(&path)?;")]
            #[doc = concat!("assert!(matches!(part, ", stringify!($ty), "::Base64 { ref media_type, .. } if media_type == \"", $type, "\"));")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
                Self::from_bytes(&read(path.as_ref())?)
            }

            /// The media type, for bytes (a URL's is not known here).
            ///
            /// ```
            #[doc = concat!("use instructor_core::", stringify!($ty), ";")]
            #[doc = concat!("let part = ", stringify!($ty), "::from_base64_with_type(\"AAAA\", \"", $type, "\")?;")]
            #[doc = concat!("assert_eq!(part.media_type(), Some(\"", $type, "\"));")]
            /// # Ok::<(), instructor_core::Error>(())
            /// ```
            pub fn media_type(&self) -> Option<&str> {
                match self {
                    $ty::Url(_) => None,
                    $ty::Base64 { media_type, .. } => Some(media_type),
                }
            }
        }
    };
}

media_part!(
    Image,
    MediaKind::Image,
    "image",
    "[0x89u8, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R']",
    "image/png"
);
media_part!(
    Document,
    MediaKind::Document,
    "document",
    "*b\"%PDF-1.7\\n%\\xe2\\xe3\\xcf\\xd3\\n\"",
    "application/pdf"
);
media_part!(
    Audio,
    MediaKind::Audio,
    "audio",
    "*b\"RIFF\\x24\\0\\0\\0WAVEfmt \\x10\\0\\0\\0\"",
    "audio/x-wav"
);
