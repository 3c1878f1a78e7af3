//! The extraction loop's own CPU cost per call, without HTTP: a provider that hands back a
//! fixed answer, against the floor of deserializing that answer with serde alone.
//!
//! `cargo bench --bench extract_loop`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use instructor::{
    async_trait, Capabilities, Client, Error, Instruct, Mode, Provider, Request, Response,
    ToolArguments, ToolCall, Usage,
};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
struct UserDetail {
    /// First name as written.
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
}

const ANSWER: &str = r#"{"name": "Jason", "age": 30}"#;

/// Answers every request with the same response.
#[derive(Debug)]
struct Fixed(Response);

#[async_trait]
impl Provider for Fixed {
    fn name(&self) -> &str {
        "fixed"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(Mode::ALL)
    }
    async fn send(&self, _request: &Request) -> Result<Response, Error> {
        Ok(self.0.clone())
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let text = Client::new(Fixed(Response::text(ANSWER).with_usage(Usage::new(20, 10))));
    let tools = Client::new(Fixed(
        Response::tool_calls(vec![ToolCall {
            id: "call_1".into(),
            name: "UserDetail".into(),
            arguments: ToolArguments::Text(ANSWER.into()),
        }])
        .with_usage(Usage::new(20, 10)),
    ));

    c.bench_function("baseline: serde_json::from_str + validate", |b| {
        b.iter(|| {
            let u: UserDetail = serde_json::from_str(black_box(ANSWER)).unwrap();
            u.validate().unwrap();
            u
        })
    });
    c.bench_function("baseline: block_on(ready)", |b| {
        b.iter(|| rt.block_on(async { black_box(1) }))
    });
    for (name, client, mode) in [
        ("extract: json mode", &text, Mode::Json),
        ("extract: json_schema mode", &text, Mode::JsonSchema),
        ("extract: md_json mode", &text, Mode::MdJson),
        ("extract: tools mode", &tools, Mode::Tools),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(
                    client
                        .create::<UserDetail>()
                        .user(black_box("Jason is 30 years old"))
                        .mode(mode)
                        .send(),
                )
                .unwrap()
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
