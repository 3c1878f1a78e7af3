//! Media parts in the Chat Completions family: what each preset takes (declared as data)
//! and the content part each piece becomes. OpenAI's shapes: an image is an `image_url`
//! part (bytes as a `data:` URL), audio an `input_audio` part (`{data, format}`, base64 wav
//! or mp3 only), a PDF a `file` part (`{filename, file_data}` with a `data:` URL; file URLs
//! are not taken by Chat Completions). Mistral's: `image_url` as OpenAI's, a PDF a
//! `document_url` part. Sources: OpenAI's vision, audio and PDF-files guides; Mistral's
//! vision and document-understanding docs.

use std::borrow::Cow;

use instructor_core::media::{MediaKind, MediaRules, PartRule};
use instructor_core::Error;

use super::wire::{FileData, ImageUrl, InputAudio, WirePart};
use crate::shared::{piece_unsupported, Piece};

/// How a server takes a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocumentShape {
    /// OpenAI's `{"type": "file", "file": {"filename", "file_data"}}`.
    File,
    /// Mistral's `{"type": "document_url", "document_url": "..."}`.
    DocumentUrl,
}

/// The media parts a preset's server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChatMedia {
    pub images: bool,
    pub documents: Option<DocumentShape>,
    pub audio: bool,
    pub rules: MediaRules,
}

const PDF: &[&str] = &["application/pdf"];
const WAV_OR_MP3: &[&str] = &[
    "audio/wav",
    "audio/x-wav",
    "audio/wave",
    "audio/mpeg",
    "audio/mp3",
];

/// Images by URL or bytes (any type): the family's common ground.
pub(crate) const IMAGES: ChatMedia = ChatMedia {
    images: true,
    documents: None,
    audio: false,
    rules: MediaRules::ANY,
};

/// Text only.
pub(crate) const NONE: ChatMedia = ChatMedia {
    images: false,
    ..IMAGES
};

/// Images as bytes only (Ollama's compatible endpoint reads base64 images, not URLs).
pub(crate) const IMAGE_BYTES: ChatMedia = ChatMedia {
    rules: MediaRules::ANY.with(MediaKind::Image, PartRule::ANY.bytes_only()),
    ..IMAGES
};

/// OpenAI's shapes without OpenAI's own limits, for servers that speak them.
pub(crate) const OPENAI_SHAPES: ChatMedia = ChatMedia {
    images: true,
    documents: Some(DocumentShape::File),
    audio: true,
    rules: MediaRules::ANY
        .with(
            MediaKind::Document,
            PartRule::ANY.bytes_only().media_types(PDF),
        )
        .with(
            MediaKind::Audio,
            PartRule::ANY.bytes_only().media_types(WAV_OR_MP3),
        ),
};

/// OpenAI itself: images PNG, JPEG, WebP or GIF up to 20 MB each.
pub(crate) const OPENAI: ChatMedia = ChatMedia {
    rules: OPENAI_SHAPES.rules.with(
        MediaKind::Image,
        PartRule::ANY
            .media_types(&["image/png", "image/jpeg", "image/webp", "image/gif"])
            .max_bytes(20 * 1024 * 1024),
    ),
    ..OPENAI_SHAPES
};

/// Mistral: images by URL or bytes, PDFs as `document_url` (a URL, or bytes as a `data:`
/// URL); no audio in chat.
pub(crate) const MISTRAL: ChatMedia = ChatMedia {
    documents: Some(DocumentShape::DocumentUrl),
    rules: MediaRules::ANY.with(MediaKind::Document, PartRule::ANY.media_types(PDF)),
    ..IMAGES
};

fn data_url(media_type: &str, data: &str) -> Cow<'static, str> {
    Cow::Owned(format!("data:{media_type};base64,{data}"))
}

/// The content part for a media piece, in the shapes `media` names.
pub(crate) fn part<'a>(
    piece: Piece<'a>,
    media: &ChatMedia,
    provider: &str,
) -> Result<WirePart<'a>, Error> {
    let (kind, url) = match piece {
        Piece::Text(text) => return Ok(WirePart::Text { text }),
        Piece::Url { kind, url } => (kind, Cow::Borrowed(url)),
        Piece::Data {
            kind: MediaKind::Audio,
            media_type,
            data,
        } => {
            let format = if media_type.contains("wav") {
                "wav"
            } else {
                "mp3"
            };
            return Ok(WirePart::InputAudio {
                input_audio: InputAudio { data, format },
            });
        }
        Piece::Data {
            kind: MediaKind::Document,
            media_type,
            data,
        } if media.documents == Some(DocumentShape::File) => {
            return Ok(WirePart::File {
                file: FileData {
                    filename: "document.pdf",
                    file_data: data_url(media_type, data),
                },
            });
        }
        Piece::Data {
            kind,
            media_type,
            data,
        } => (kind, data_url(media_type, data)),
    };
    match (kind, media.documents) {
        (MediaKind::Image, _) => Ok(WirePart::ImageUrl {
            image_url: ImageUrl { url },
        }),
        (MediaKind::Document, Some(DocumentShape::DocumentUrl)) => {
            Ok(WirePart::DocumentUrl { document_url: url })
        }
        (kind, _) => Err(piece_unsupported(provider, kind, "in this form")),
    }
}
