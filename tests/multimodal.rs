//! Images, PDF documents and audio, through every provider family over a local mock server:
//! the request body for each part kind and form (bytes, URL) in the provider's documented
//! shape, or a typed error naming the part with nothing sent; size limits; media types
//! sniffed from real PNG, PDF and WAV bytes; and the receipt example's flow.
//!
//! Documented shapes these bodies are held to:
//! - OpenAI Chat Completions (vision, audio and PDF-files guides): `{"type": "image_url",
//!   "image_url": {"url"}}` (bytes as a `data:` URL; images up to 20 MB, PNG/JPEG/WebP/GIF);
//!   `{"type": "input_audio", "input_audio": {"data", "format": "wav"|"mp3"}}` (base64 only);
//!   `{"type": "file", "file": {"filename", "file_data": "data:application/pdf;base64,..."}}`
//!   ("inputs by file URL are not supported for chat completions").
//! - Anthropic Messages (vision and PDF-support guides): `{"type": "image"|"document",
//!   "source": {"type": "base64", "media_type", "data"} | {"type": "url", "url"}}`; images up
//!   to 5 MB; requests up to 32 MB.
//! - Gemini `generateContent` (file-input guide): `inlineData {mimeType, data}` or
//!   `fileData {fileUri}` for every kind; inline data within the 20 MB request limit.
//! - Mistral chat (vision, document understanding): `image_url` as OpenAI; a PDF as
//!   `{"type": "document_url", "document_url": "..."}`.
//! - Ollama `/api/chat`: `images`, a list of base64 strings (no URLs), and its OpenAI
//!   endpoint likewise base64 images only.
//! - Cohere v2 chat and DeepSeek: text only here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

#[allow(dead_code)]
#[path = "../examples/receipt.rs"]
mod receipt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::family::{Family, FAMILIES};
use common::{mock_server, UserDetail, JASON};
use instructor::media::MediaKind;
use instructor::providers::{Fallback, OpenAi};
use instructor::{
    Audio, Client, Document, Error, Image, Instruct, Message, Mode, OutputSpec, Part, Provider,
    Request, RetryPolicy,
};
use serde_json::{json, Value};
use wiremock::{MockServer, ResponseTemplate};

/// The shipped receipt: a real 521-byte PNG.
fn png() -> Vec<u8> {
    std::fs::read(receipt::RECEIPT_PNG).unwrap()
}

/// A small real PDF: one empty page, with a cross-reference table.
fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
    ];
    let mut out = String::from("%PDF-1.4\n");
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.push_str(&format!("{} 0 obj\n{body}\nendobj\n", i + 1));
    }
    let xref = out.len();
    out.push_str(&format!(
        "xref\n0 {}\n0000000000 65535 f \n",
        objects.len() + 1
    ));
    for offset in offsets {
        out.push_str(&format!("{offset:010} 00000 n \n"));
    }
    out.push_str(&format!(
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    ));
    out.into_bytes()
}

/// A small real WAV: 8 kHz mono 16-bit PCM, 100 samples of a square wave.
fn wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..100)
        .map(|i| if i % 20 < 10 { 8000 } else { -8000 })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

const IMAGE_URL: &str = "https://example.com/receipt.png";
const PDF_URL: &str = "https://example.com/invoice.pdf";
const AUDIO_URL: &str = "https://example.com/call.wav";

/// One media part under test, with what a body must carry for it.
struct Case {
    name: &'static str,
    part: Part,
    kind: MediaKind,
    /// The media type and base64 data, for bytes; the URL otherwise.
    bytes: Option<(&'static str, String)>,
    url: Option<&'static str>,
}

fn cases() -> Vec<Case> {
    let case = |name, part: Part, bytes: Option<(&'static str, Vec<u8>)>, url| Case {
        name,
        kind: part.media_kind().unwrap(),
        part,
        bytes: bytes.map(|(t, b)| (t, STANDARD.encode(b))),
        url,
    };
    vec![
        case(
            "image bytes",
            Image::from_bytes(&png()).unwrap().into(),
            Some(("image/png", png())),
            None,
        ),
        case(
            "image URL",
            Image::from_url(IMAGE_URL).into(),
            None,
            Some(IMAGE_URL),
        ),
        case(
            "PDF bytes",
            Document::from_bytes(&pdf()).unwrap().into(),
            Some(("application/pdf", pdf())),
            None,
        ),
        case(
            "PDF URL",
            Document::from_url(PDF_URL).into(),
            None,
            Some(PDF_URL),
        ),
        case(
            "WAV bytes",
            Audio::from_bytes(&wav()).unwrap().into(),
            Some(("audio/x-wav", wav())),
            None,
        ),
        case(
            "audio URL",
            Audio::from_url(AUDIO_URL).into(),
            None,
            Some(AUDIO_URL),
        ),
    ]
}

/// The part a family's body carries for `case`, in its documented shape; `None` where the
/// family takes no such part (in this form).
fn documented(family: Family, case: &Case) -> Option<Value> {
    let data_url = case
        .bytes
        .as_ref()
        .map(|(t, d)| format!("data:{t};base64,{d}"));
    let source = match (&case.bytes, case.url) {
        (Some((t, d)), _) => json!({"type": "base64", "media_type": t, "data": d}),
        (None, Some(url)) => json!({"type": "url", "url": url}),
        _ => unreachable!(),
    };
    match (family, case.kind) {
        (Family::OpenAi | Family::Mistral, MediaKind::Image) => Some(json!({
            "type": "image_url",
            "image_url": {"url": data_url.unwrap_or_else(|| case.url.unwrap().to_owned())}
        })),
        (Family::OpenAi, MediaKind::Document) => data_url.map(|file_data| {
            json!({"type": "file", "file": {"filename": "document.pdf", "file_data": file_data}})
        }),
        (Family::OpenAi, MediaKind::Audio) => case.bytes.as_ref().map(|(_, data)| {
            json!({"type": "input_audio", "input_audio": {"data": data, "format": "wav"}})
        }),
        (Family::Mistral, MediaKind::Document) => Some(json!({
            "type": "document_url",
            "document_url": data_url.unwrap_or_else(|| case.url.unwrap().to_owned())
        })),
        (Family::Anthropic, MediaKind::Image) => Some(json!({"type": "image", "source": source})),
        (Family::Anthropic, MediaKind::Document) => {
            Some(json!({"type": "document", "source": source}))
        }
        (Family::Gemini, _) => Some(match (&case.bytes, case.url) {
            (Some((t, d)), _) => json!({"inlineData": {"mimeType": t, "data": d}}),
            (None, url) => json!({"fileData": {"fileUri": url}}),
        }),
        (Family::Ollama, MediaKind::Image) => {
            case.bytes.as_ref().map(|(_, data)| json!([data]))
        }
        _ => None,
    }
}

/// A request of a system message and a user message with text then `part`, for model `m`.
fn request(part: Part) -> Request {
    let output = OutputSpec::new(Mode::Json, UserDetail::type_schema()).unwrap();
    let messages = vec![
        Message::system("Answer in JSON."),
        Message::user_with_parts("Who is this?", [part]),
    ];
    let mut request = Request::new(messages, output);
    request.model = Some("m".into());
    request
}

async fn answering(family: Family) -> MockServer {
    mock_server(ResponseTemplate::new(200).set_body_raw(family.whole(JASON), "application/json"))
        .await
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap();
    requests
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

/// The last user turn of a body.
fn user_turn(family: Family, body: &Value) -> &Value {
    let turns = match family {
        Family::Gemini => &body["contents"],
        _ => &body["messages"],
    };
    let turns = turns.as_array().unwrap();
    turns.iter().rev().find(|t| t["role"] == "user").unwrap()
}

/// Where a family's user turn carries the media part.
fn carried(family: Family, turn: &Value) -> &Value {
    match family {
        Family::Ollama => &turn["images"],
        Family::Gemini => &turn["parts"][1],
        _ => &turn["content"][1],
    }
}

/// Holds `err` to be the typed refusal of the user message's media part (message 1, part 1).
fn assert_refused(err: &Error, kind: MediaKind, what: &str) {
    assert!(
        matches!(err, Error::UnsupportedPart { message: 1, part: 1, kind: k, .. } if *k == kind),
        "{what}: {err:?}"
    );
    let shown = err.to_string();
    assert!(
        shown.contains("message 1, part 1") && shown.contains(kind.as_str()),
        "{what}: {shown}"
    );
}

#[tokio::test]
async fn each_part_kind_goes_in_the_documented_shape_or_is_refused_before_sending() {
    for family in FAMILIES {
        for case in cases() {
            let what = format!("{family:?} {}", case.name);
            let server = answering(family).await;
            let provider = family.provider(&server.uri());
            let request = request(case.part.clone());
            let result = provider.send(&request).await;
            match documented(family, &case) {
                Some(part) => {
                    let response = result.unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_eq!(response.text.as_deref(), Some(JASON), "{what}");
                    let body = &bodies(&server).await[0];
                    assert_eq!(carried(family, user_turn(family, body)), &part, "{what}");
                    // `wire_body` is the same body, for callers with their own transport.
                    assert_eq!(&provider.wire_body(&request).unwrap(), body, "{what}");
                }
                None => {
                    assert_refused(&result.unwrap_err(), case.kind, &what);
                    let err = provider.wire_body(&request).unwrap_err();
                    assert_refused(&err, case.kind, &what);
                    assert!(bodies(&server).await.is_empty(), "{what}: nothing sent");
                }
            }
        }
    }
}

#[tokio::test]
async fn capabilities_declare_the_part_kinds_each_provider_takes() {
    // (images, documents, audio, images by URL)
    let table = [
        (Family::OpenAi, (true, true, true, true)),
        (Family::Mistral, (true, true, false, true)),
        (Family::Anthropic, (true, true, false, true)),
        (Family::Gemini, (true, true, true, true)),
        (Family::Cohere, (false, false, false, true)),
        (Family::Ollama, (true, false, false, false)),
    ];
    for (family, (images, documents, audio, urls)) in table {
        let c = family.provider("http://127.0.0.1:9").capabilities();
        let what = format!("{family:?}");
        assert_eq!(
            (c.images, c.documents, c.audio),
            (images, documents, audio),
            "{what}"
        );
        assert_eq!(c.accepts(MediaKind::Document), documents, "{what}");
        if images {
            assert_eq!(c.media.image.url, urls, "{what}");
        }
    }
}

/// OpenAI-compatible presets: what each server takes, from the same translator.
#[tokio::test]
async fn compatible_presets_take_what_their_servers_read() {
    type Build = fn(String) -> OpenAi;
    let presets: [(&str, Build, [bool; 4]); 5] = [
        // image bytes, image URL, PDF bytes, WAV bytes
        (
            "ollama",
            |u| OpenAi::ollama().base_url(u),
            [true, false, false, false],
        ),
        (
            "deepseek",
            |u| OpenAi::deepseek().base_url(u).api_key("k"),
            [false, false, false, false],
        ),
        (
            "groq",
            |u| OpenAi::groq().base_url(u).api_key("k"),
            [true, true, false, false],
        ),
        (
            "openrouter",
            |u| OpenAi::openrouter().base_url(u).api_key("k"),
            [true, true, true, true],
        ),
        ("compatible", OpenAi::compatible, [true, true, true, true]),
    ];
    let cases = cases();
    let chosen = [&cases[0], &cases[1], &cases[2], &cases[4]];
    for (name, build, takes) in presets {
        for (case, takes) in chosen.iter().zip(takes) {
            let what = format!("{name} {}", case.name);
            let server = answering(Family::OpenAi).await;
            let provider = build(format!("{}/v1", server.uri()));
            let result = provider.send(&request(case.part.clone())).await;
            if takes {
                result.unwrap_or_else(|e| panic!("{what}: {e}"));
                let body = &bodies(&server).await[0];
                let part = documented(Family::OpenAi, case).unwrap();
                assert_eq!(&body["messages"][1]["content"][1], &part, "{what}");
            } else {
                assert_refused(&result.unwrap_err(), case.kind, &what);
                assert!(bodies(&server).await.is_empty(), "{what}: nothing sent");
            }
        }
    }
}

#[tokio::test]
async fn parts_over_a_providers_limit_are_refused_before_sending() {
    let big_image = Image::from_bytes_with_type(&vec![0u8; 5 * 1024 * 1024 + 1], "image/png");
    let big_pdf =
        Document::from_bytes_with_type(&vec![0u8; 20 * 1024 * 1024 + 1], "application/pdf");
    let over = [
        (
            Family::Anthropic,
            Part::from(big_image.unwrap()),
            MediaKind::Image,
            5 * 1024 * 1024,
        ),
        (
            Family::Gemini,
            Part::from(big_pdf.unwrap()),
            MediaKind::Document,
            20 * 1024 * 1024,
        ),
    ];
    for (family, part, kind, limit) in over {
        let server = answering(family).await;
        let err = family
            .provider(&server.uri())
            .send(&request(part))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::PartTooLarge { message: 1, part: 1, kind: k, bytes, limit: l, .. }
                if k == kind && bytes == limit + 1 && l == limit),
            "{family:?}: {err:?}"
        );
        assert!(err.to_string().contains("over the"), "{err}");
        assert!(bodies(&server).await.is_empty(), "{family:?}: nothing sent");
    }
}

#[tokio::test]
async fn media_types_and_turns_a_provider_cannot_read_are_refused() {
    let server = answering(Family::OpenAi).await;
    let openai = Family::OpenAi.provider(&server.uri());
    // OpenAI's `input_audio` takes wav or mp3 only.
    let ogg = Audio::from_bytes_with_type(b"OggS\0\x02", "audio/ogg").unwrap();
    let err = openai.send(&request(ogg.into())).await.unwrap_err();
    assert_refused(&err, MediaKind::Audio, "ogg");
    assert!(err.to_string().contains("audio/ogg"), "{err}");
    // Media goes in user turns only: elsewhere it would be lost.
    let mut in_system = request(Part::Text("x".into()));
    in_system.messages[0]
        .content
        .push(Image::from_url(IMAGE_URL).into());
    let err = openai.send(&in_system).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedPart {
                message: 0,
                part: 1,
                kind: MediaKind::Image,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(bodies(&server).await.is_empty(), "nothing sent");
}

#[tokio::test]
async fn the_client_refuses_a_part_before_any_request() {
    // Cohere takes no documents: the provider's check stops the extraction, nothing sent.
    let server = answering(Family::Cohere).await;
    let message = Message::user_with_parts(
        "Who signed this?",
        [Document::from_bytes(&pdf()).unwrap().into()],
    );
    let err = Family::Cohere
        .client(&server.uri())
        .create::<UserDetail>()
        .message(message)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.root(),
            Error::UnsupportedPart {
                kind: MediaKind::Document,
                part: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(bodies(&server).await.is_empty(), "nothing sent");
}

#[test]
fn media_types_are_sniffed_from_real_bytes() {
    let image = Image::from_bytes(&png()).unwrap();
    assert_eq!(image.media_type(), Some("image/png"));
    let document = Document::from_bytes(&pdf()).unwrap();
    assert_eq!(document.media_type(), Some("application/pdf"));
    let audio = Audio::from_bytes(&wav()).unwrap();
    assert_eq!(audio.media_type(), Some("audio/x-wav"));
    // The same from base64 text and from a `data:` URL.
    let text = STANDARD.encode(wav());
    assert_eq!(Audio::from_base64(text.clone()).unwrap(), audio);
    let url = format!("data:audio/x-wav;base64,{text}");
    assert_eq!(Audio::from_url(url.clone()), audio);
    assert_eq!(Audio::from_base64(url).unwrap(), audio);
    // Bytes of another kind, of no known type, or text that is not base64: `Error::Media`.
    for err in [
        Image::from_bytes(&pdf()).unwrap_err(),
        Document::from_bytes(b"just some words").unwrap_err(),
        Audio::from_base64("%%% not base64 %%%").unwrap_err(),
        Image::from_bytes_with_type(&png(), "audio/wav").unwrap_err(),
    ] {
        assert!(matches!(err, Error::Media { .. }), "{err:?}");
    }
}

#[test]
fn parts_are_made_from_files_by_their_bytes() {
    let dir = std::env::temp_dir().join(format!("instructor-multimodal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Names that lie about the contents: the bytes decide.
    for (name, bytes, kind) in [
        ("a.pdf", png(), MediaKind::Image),
        ("b.wav", pdf(), MediaKind::Document),
        ("c.png", wav(), MediaKind::Audio),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let part = Part::from_path(&path).unwrap();
        assert_eq!(part.media_kind(), Some(kind), "{name}");
    }
    let err = Image::from_path(dir.join("missing.png")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Media {
                source: Some(_),
                ..
            }
        ),
        "{err:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_receipt_example_sends_the_image_base64_and_reads_a_typed_receipt() {
    let answer = json!({
        "merchant": "Corner Cafe",
        "items": [{"name": "Coffee", "price": 3.5}, {"name": "Bagel", "price": 2.25}],
        "total": 5.75
    });
    let server = answering_with(Family::OpenAi, &answer.to_string()).await;
    let client = Client::new(OpenAi::compatible(format!("{}/v1", server.uri())))
        .model("vision")
        .mode(Mode::JsonSchema)
        .transport_retries(RetryPolicy::none());
    let got = receipt::read_receipt(&client, receipt::RECEIPT_PNG)
        .await
        .unwrap();
    assert_eq!(got.merchant, "Corner Cafe");
    assert_eq!(got.items.len(), 2);
    assert_eq!(got.items[1].name, "Bagel");
    assert_eq!(got.total, 5.75);

    let body = &bodies(&server).await[0];
    let turn = user_turn(Family::OpenAi, body);
    let expected = format!("data:image/png;base64,{}", STANDARD.encode(png()));
    assert_eq!(turn["content"][1]["type"], "image_url");
    assert_eq!(turn["content"][1]["image_url"]["url"], expected);
    assert_eq!(body["response_format"]["type"], "json_schema");
}

async fn answering_with(family: Family, text: &str) -> MockServer {
    mock_server(ResponseTemplate::new(200).set_body_raw(family.whole(text), "application/json"))
        .await
}

/// Native Ollama's `images` are base64 strings: a URL image is refused, saying so.
#[tokio::test]
async fn native_ollama_refuses_url_images_saying_it_takes_base64() {
    let server = answering(Family::Ollama).await;
    let err = Family::Ollama
        .provider(&server.uri())
        .send(&request(Image::from_url(IMAGE_URL).into()))
        .await
        .unwrap_err();
    assert_refused(&err, MediaKind::Image, "ollama URL image");
    assert!(err.to_string().contains("base64"), "{err}");
}

/// A fallback chain passes a part its first member refuses on to the next, which takes it:
/// the refusal is not an answer, and the refusing member sends nothing.
#[tokio::test]
async fn a_fallback_chain_passes_a_refused_part_to_a_member_that_takes_it() {
    let cohere = answering(Family::Cohere).await;
    let gemini = answering(Family::Gemini).await;
    let chain = Fallback::from_shared(Family::Cohere.provider(&cohere.uri()))
        .or_shared(Family::Gemini.provider(&gemini.uri()));
    assert!(chain.capabilities().audio, "audio if any member takes it");
    let clip = Audio::from_bytes(&wav()).unwrap();
    let user = Client::new(chain)
        .model("m")
        .mode(Mode::Json)
        .max_retries(0)
        .create::<UserDetail>()
        .message(Message::user("Who is speaking?").with_part(clip))
        .send()
        .await
        .unwrap();
    assert_eq!(user, common::jason());
    assert!(
        bodies(&cohere).await.is_empty(),
        "the refusing member sent nothing"
    );
    let body = &bodies(&gemini).await[0];
    let part = carried(Family::Gemini, user_turn(Family::Gemini, body));
    assert_eq!(part["inlineData"]["mimeType"], "audio/x-wav");
}
