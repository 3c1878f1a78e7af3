//! What a provider takes of each media kind ([`PartRule`], [`MediaRules`], declared as data
//! in [`Capabilities`]) and the one check of a conversation against it, run before any
//! request is built or sent: a part it cannot take, or one over its size limit, is a typed
//! error naming the message, the part and the kind, never dropped.

use super::encode::decoded_len;
use super::MediaKind;
use crate::{Capabilities, Error, Message, Part, Role};

/// How a provider takes one kind of media part: whether it fetches URLs, which media types
/// it reads (`None`: any of the kind) and the largest part it takes, in decoded bytes.
///
/// ```
/// use instructor_core::media::PartRule;
/// const OPENAI_AUDIO: PartRule = PartRule::ANY
///     .bytes_only()
///     .media_types(&["audio/wav", "audio/x-wav", "audio/mpeg"]);
/// assert!(!OPENAI_AUDIO.url);
/// assert!(OPENAI_AUDIO.takes_type("audio/mpeg"));
/// assert!(!OPENAI_AUDIO.takes_type("audio/ogg"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartRule {
    /// Whether a part given by URL is taken (else base64 bytes only).
    pub url: bool,
    /// The media types taken; `None` takes any of the kind.
    pub media_types: Option<&'static [&'static str]>,
    /// The largest part taken, in decoded bytes; `None` sets no limit here.
    pub max_bytes: Option<u64>,
}

impl PartRule {
    /// URLs and bytes of any media type and size.
    ///
    /// ```
    /// assert!(instructor_core::media::PartRule::ANY.url);
    /// ```
    pub const ANY: PartRule = PartRule {
        url: true,
        media_types: None,
        max_bytes: None,
    };

    /// The same, taking base64 bytes only (no URLs).
    ///
    /// ```
    /// assert!(!instructor_core::media::PartRule::ANY.bytes_only().url);
    /// ```
    pub const fn bytes_only(mut self) -> Self {
        self.url = false;
        self
    }

    /// The same, taking only these media types.
    ///
    /// ```
    /// let pdf = instructor_core::media::PartRule::ANY.media_types(&["application/pdf"]);
    /// assert!(pdf.takes_type("application/pdf"));
    /// ```
    pub const fn media_types(mut self, types: &'static [&'static str]) -> Self {
        self.media_types = Some(types);
        self
    }

    /// The same, taking parts of at most `bytes` decoded bytes.
    ///
    /// ```
    /// let five_mb = instructor_core::media::PartRule::ANY.max_bytes(5 * 1024 * 1024);
    /// assert_eq!(five_mb.max_bytes, Some(5 * 1024 * 1024));
    /// ```
    pub const fn max_bytes(mut self, bytes: u64) -> Self {
        self.max_bytes = Some(bytes);
        self
    }

    /// Whether `media_type` is taken (case-insensitively).
    ///
    /// ```
    /// assert!(instructor_core::media::PartRule::ANY.takes_type("image/png"));
    /// ```
    pub fn takes_type(&self, media_type: &str) -> bool {
        self.media_types
            .is_none_or(|types| types.iter().any(|t| t.eq_ignore_ascii_case(media_type)))
    }
}

impl Default for PartRule {
    fn default() -> Self {
        PartRule::ANY
    }
}

/// A provider's [`PartRule`] for each media kind (whether it takes the kind at all is
/// [`Capabilities::images`], [`Capabilities::documents`], [`Capabilities::audio`]).
///
/// ```
/// use instructor_core::media::{MediaKind, MediaRules, PartRule};
/// let rules = MediaRules::ANY.with(MediaKind::Image, PartRule::ANY.bytes_only());
/// assert!(!rules.rule(MediaKind::Image).url);
/// assert!(rules.rule(MediaKind::Audio).url);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MediaRules {
    /// Images.
    pub image: PartRule,
    /// Documents.
    pub document: PartRule,
    /// Audio.
    pub audio: PartRule,
}

impl MediaRules {
    /// [`PartRule::ANY`] for every kind.
    ///
    /// ```
    /// assert_eq!(instructor_core::media::MediaRules::ANY, Default::default());
    /// ```
    pub const ANY: MediaRules = MediaRules {
        image: PartRule::ANY,
        document: PartRule::ANY,
        audio: PartRule::ANY,
    };

    /// The same with `rule` for `kind`.
    ///
    /// ```
    /// use instructor_core::media::{MediaKind, MediaRules, PartRule};
    /// let r = MediaRules::ANY.with(MediaKind::Document, PartRule::ANY.max_bytes(10));
    /// assert_eq!(r.document.max_bytes, Some(10));
    /// ```
    pub const fn with(mut self, kind: MediaKind, rule: PartRule) -> Self {
        match kind {
            MediaKind::Image => self.image = rule,
            MediaKind::Document => self.document = rule,
            MediaKind::Audio => self.audio = rule,
        }
        self
    }

    /// The rule for `kind`.
    ///
    /// ```
    /// use instructor_core::media::{MediaKind, MediaRules};
    /// assert!(MediaRules::ANY.rule(MediaKind::Audio).url);
    /// ```
    pub fn rule(&self, kind: MediaKind) -> &PartRule {
        match kind {
            MediaKind::Image => &self.image,
            MediaKind::Document => &self.document,
            MediaKind::Audio => &self.audio,
        }
    }
}

/// Where a media part's content is, as the check sees it.
enum Source<'a> {
    Url,
    Bytes { media_type: &'a str, data: &'a str },
}

/// A media part's kind and source (`None` for text).
fn parts_of(part: &Part) -> Option<(MediaKind, Source<'_>)> {
    use super::{Audio, Document, Image};
    let (kind, source) = match part {
        Part::Image(Image::Url(_)) => (MediaKind::Image, None),
        Part::Image(Image::Base64 { media_type, data }) => {
            (MediaKind::Image, Some((media_type.as_str(), data.as_str())))
        }
        Part::Document(Document::Url(_)) => (MediaKind::Document, None),
        Part::Document(Document::Base64 { media_type, data }) => (
            MediaKind::Document,
            Some((media_type.as_str(), data.as_str())),
        ),
        Part::Audio(Audio::Url(_)) => (MediaKind::Audio, None),
        Part::Audio(Audio::Base64 { media_type, data }) => {
            (MediaKind::Audio, Some((media_type.as_str(), data.as_str())))
        }
        Part::Text(_) => return None,
    };
    Some(match source {
        None => (kind, Source::Url),
        Some((media_type, data)) => (kind, Source::Bytes { media_type, data }),
    })
}

/// Checks every media part of `messages` against what `provider` declares in
/// `capabilities`: the kind must be taken, a URL only where URLs are, the media type one it
/// reads, the size within its limit, and the part in a user message (the only turn every API
/// carries media in). The first part that fails is [`Error::UnsupportedPart`] or
/// [`Error::PartTooLarge`], naming the message and part (0-based) and the kind.
///
/// ```
/// use instructor_core::{media, Capabilities, Error, Image, Message, Mode};
/// let text_only = Capabilities::new(&[Mode::Json]);
/// let m = Message::user_with_image("Who?", Image::from_url("https://x/y.png"));
/// let err = media::check(&[Message::system("Extract."), m], "text-only", &text_only).unwrap_err();
/// assert!(matches!(err, Error::UnsupportedPart { message: 1, part: 1, kind: media::MediaKind::Image, .. }));
/// ```
pub fn check(
    messages: &[Message],
    provider: &str,
    capabilities: &Capabilities,
) -> Result<(), Error> {
    for (message, m) in messages.iter().enumerate() {
        for (part, p) in m.content.iter().enumerate() {
            let Some((kind, source)) = parts_of(p) else {
                continue;
            };
            let refuse = |reason: String| Error::UnsupportedPart {
                provider: provider.to_owned(),
                message,
                part,
                kind,
                reason,
            };
            if !capabilities.accepts(kind) {
                return Err(refuse(format!("it takes no {kind} parts")));
            }
            if m.role != Role::User {
                return Err(refuse(format!("{kind} parts go in user messages only")));
            }
            let rule = capabilities.media.rule(kind);
            let (media_type, data) = match source {
                Source::Url if !rule.url => {
                    return Err(refuse(format!(
                        "it takes a {kind} as base64 bytes only, not by URL (make the part from the bytes or a path)"
                    )))
                }
                Source::Url => continue,
                Source::Bytes { media_type, data } => (media_type, data),
            };
            if !rule.takes_type(media_type) {
                let taken = rule.media_types.unwrap_or_default().join(", ");
                return Err(refuse(format!(
                    "it does not read `{media_type}` (it reads {taken})"
                )));
            }
            let bytes = decoded_len(data);
            if let Some(limit) = rule.max_bytes.filter(|limit| bytes > *limit) {
                return Err(Error::PartTooLarge {
                    provider: provider.to_owned(),
                    message,
                    part,
                    kind,
                    bytes,
                    limit,
                });
            }
        }
    }
    Ok(())
}
