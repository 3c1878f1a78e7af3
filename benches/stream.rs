//! Streaming cost against answer size: a list of N users (nested address and tags, about
//! 145 bytes each) streamed in 16-byte chunks through `create_partial` (every partial read
//! by the caller) and `create_iterable`, against a baseline client that concatenates the
//! deltas and parses once at the end. All three read the same stream from the same
//! provider: an in-process fake for the N rows, and the OpenAI provider against a local mock
//! HTTP server for the `http` row.
//!
//! Timings are this thread's CPU time (the client's work, not the mock server's), as the
//! median of paired rounds: each round runs the baseline, partial and iterable in turn, and
//! the ratio column is the median of the rounds' own ratios, so a noisy neighbour slows a
//! whole round rather than one column. Peak heap is measured in a separate run.
//!
//! `cargo bench --bench stream` (`STREAM_ROUNDS=n` sets the rounds at N = 800;
//! `STREAM_ONLY=partial|iter|base|parser|lean` with `STREAM_N=800` loops one case, for a profiler).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
// The counting allocator and the CPU clock (support/measure.rs) call the system; measuring
// is the only reason for unsafe code in the project.
#![allow(unsafe_code)]

#[path = "support/measure.rs"]
mod measure;
use measure::cpu_ms;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use instructor::providers::OpenAi;
use instructor::stream::Update;
use instructor::{
    async_trait, Capabilities, Client, Error, EventStream, Instruct, Mode, Provider, Request,
    Response, StreamEvent,
};
use serde::Deserialize;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Partials the last partial stream yielded, and how many users its last partial held.
static PARTIALS: AtomicUsize = AtomicUsize::new(0);
static LAST_SHOWN: AtomicUsize = AtomicUsize::new(0);

#[derive(Instruct, Deserialize, Debug)]
#[allow(dead_code)]
struct Address {
    street: String,
    city: String,
}

#[derive(Instruct, Deserialize, Debug)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
    address: Address,
    tags: Vec<String>,
}

/// Streams a fixed answer in fixed chunks.
#[derive(Debug, Clone)]
struct Chunks(Arc<Vec<String>>);

#[async_trait]
impl Provider for Chunks {
    fn name(&self) -> &str {
        "chunks"
    }
    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::new(&[Mode::Json]);
        c.streaming = true;
        c
    }
    async fn send(&self, _: &Request) -> Result<Response, Error> {
        Ok(Response::text(self.0.concat()))
    }
    async fn stream(&self, _: &Request) -> Result<EventStream, Error> {
        let chunks = self.0.clone();
        Ok(Box::pin(futures::stream::iter((0..chunks.len()).map(
            move |i| Ok(StreamEvent::TextDelta(chunks[i].clone())),
        ))))
    }
}

fn answer(n: usize) -> String {
    let users: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name": "User Number {i}", "age": {}, "address": {{"street": "{i} Long Street Name", "city": "Springfield"}}, "tags": ["alpha", "beta", "gamma"]}}"#,
                i % 100
            )
        })
        .collect();
    format!(r#"{{"items": [{}]}}"#, users.join(", "))
}

fn chunks(text: &str, size: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

/// The same chunks as an OpenAI chat-completions event stream.
fn sse(chunks: &[String]) -> String {
    let mut body = String::new();
    for c in chunks {
        let event = serde_json::json!({
            "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"content": c}, "finish_reason": null}],
        });
        body.push_str(&format!("data: {event}\n\n"));
    }
    let last = serde_json::json!({
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    });
    body.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
    body
}

/// The three clients of one stream.
struct Case {
    n: usize,
    provider: Arc<dyn Provider>,
    client: Client,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    Base,
    Partial,
    Iter,
}

impl Case {
    /// Runs one client to the end; returns something to keep the work alive.
    async fn run(&self, which: Which) -> usize {
        match which {
            Which::Base => {
                let mut s = self.provider.stream(&request()).await.unwrap();
                let mut all = String::new();
                while let Some(e) = s.next().await {
                    if let StreamEvent::TextDelta(t) = e.unwrap() {
                        all.push_str(&t);
                    }
                }
                #[derive(Deserialize)]
                struct Wrapped {
                    items: Vec<User>,
                }
                let items = serde_json::from_str::<Wrapped>(&all).unwrap().items;
                assert_eq!(items.len(), self.n);
                items.len()
            }
            Which::Partial => {
                let call = self.client.create_partial::<Vec<User>>().user("x");
                let mut s = call.send().await.unwrap();
                let mut seen = 0;
                while let Some(u) = s.next().await {
                    match u.unwrap() {
                        // The caller reads each partial: every user, the last one's name.
                        Update::Partial(p) => {
                            seen += p.len();
                            let last = p.last().and_then(|u| u.name.as_deref());
                            seen += std::hint::black_box(last).map_or(0, str::len);
                            PARTIALS.fetch_add(1, Ordering::Relaxed);
                            LAST_SHOWN.store(p.len(), Ordering::Relaxed);
                        }
                        Update::Complete { value, .. } => {
                            assert_eq!(value.len(), self.n);
                            seen += value.len();
                        }
                    }
                }
                seen
            }
            Which::Iter => {
                let call = self.client.create_iterable::<User>().user("x");
                let s = call.send().await.unwrap();
                let ok = s
                    .filter(|r| futures::future::ready(r.is_ok()))
                    .count()
                    .await;
                assert_eq!(ok, self.n);
                ok
            }
        }
    }

    /// CPU ms of one run.
    async fn time(&self, which: Which) -> f64 {
        let start = cpu_ms();
        std::hint::black_box(self.run(which).await);
        cpu_ms() - start
    }

    /// Peak heap above the start, in KB, of one run (memory allocated before the run and
    /// freed during it counts as negative).
    async fn peak_kb(&self, which: Which) -> usize {
        let (out, peak) = measure::peak_bytes(self.run(which)).await;
        std::hint::black_box(out);
        peak / 1024
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median ms of each client and median of the rounds' ratios to the baseline.
struct Row {
    ms: [f64; 3],
    ratio: [f64; 2],
    kb: [usize; 3],
    /// Partials yielded, and the users the last one held.
    partials: (usize, usize),
}

async fn measure(case: &Case, rounds: usize) -> Row {
    const ALL: [Which; 3] = [Which::Base, Which::Partial, Which::Iter];
    for w in ALL {
        case.run(w).await;
    }
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..rounds {
        for (i, w) in ALL.into_iter().enumerate() {
            times[i].push(case.time(w).await);
        }
    }
    let ratio = |i: usize| median(times[i].iter().zip(&times[0]).map(|(t, b)| t / b).collect());
    let mut kb = [0; 3];
    let mut partials = (0, 0);
    for (i, w) in ALL.into_iter().enumerate() {
        PARTIALS.store(0, Ordering::Relaxed);
        kb[i] = case.peak_kb(w).await;
        if w == Which::Partial {
            partials = (
                PARTIALS.load(Ordering::Relaxed),
                LAST_SHOWN.load(Ordering::Relaxed),
            );
        }
    }
    Row {
        ratio: [ratio(1), ratio(2)],
        ms: times.map(median),
        kb,
        partials,
    }
}

fn print_header() {
    println!(
        "{:>6} {:>7} {:>6} | {:>7} {:>6} | {:>7} {:>6} {:>6} {:>9} | {:>7} {:>6} {:>6}",
        "N",
        "KB",
        "rounds",
        "base ms",
        "KB",
        "part ms",
        "KB",
        "x base",
        "partials",
        "iter ms",
        "KB",
        "x base"
    );
}

fn print_row(label: &str, bytes: usize, rounds: usize, r: &Row) {
    let partials = format!("{}/{}", r.partials.0, r.partials.1);
    println!(
        "{:>6} {:>7} {:>6} | {:>7.2} {:>6} | {:>7.2} {:>6} {:>6.2} {:>9} | {:>7.2} {:>6} {:>6.2}",
        label,
        bytes / 1024,
        rounds,
        r.ms[0],
        r.kb[0],
        r.ms[1],
        r.kb[1],
        r.ratio[0],
        partials,
        r.ms[2],
        r.kb[2],
        r.ratio[1]
    );
}

fn in_process(n: usize) -> (Case, usize) {
    let text = answer(n);
    let chunks = Chunks(Arc::new(chunks(&text, 16)));
    let case = Case {
        n,
        provider: Arc::new(chunks.clone()),
        client: Client::new(chunks),
    };
    (case, text.len())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    if let Ok(only) = std::env::var("STREAM_ONLY") {
        if only == "parser" || only == "lean" {
            let (n, runs) = (
                env("STREAM_N").unwrap_or(800),
                env("STREAM_RUNS").unwrap_or(200),
            );
            return parser_only(n, runs, only == "lean");
        }
        let which = match only.as_str() {
            "base" => Which::Base,
            "partial" => Which::Partial,
            "iter" => Which::Iter,
            other => panic!("STREAM_ONLY={other}: expected base, partial, iter or parser"),
        };
        let (case, _) = in_process(env("STREAM_N").unwrap_or(800));
        let runs = env("STREAM_RUNS").unwrap_or(200);
        let start = Instant::now();
        let mut ms = Vec::new();
        for _ in 0..runs {
            ms.push(case.time(which).await);
        }
        println!(
            "{which:?}: {runs} runs in {:.2?}, median {:.3} ms CPU",
            start.elapsed(),
            median(ms)
        );
        return;
    }
    let at_800 = env("STREAM_ROUNDS").unwrap_or(21);
    println!(
        "\nN users in 16-byte chunks: thread CPU ms, median of paired rounds (x base = median of \
         the rounds' ratios); KB = peak heap above the start; partials = partial updates \
         yielded / users in the last one"
    );
    print_header();
    for n in [100, 200, 400, 800, 1600] {
        let (case, bytes) = in_process(n);
        let rounds = (at_800 * 800 / n).clamp(5, 4 * at_800) | 1;
        let row = measure(&case, rounds).await;
        print_row(&n.to_string(), bytes, rounds, &row);
    }

    // The same stream from a local mock server through the OpenAI provider.
    let n = 800;
    let text = answer(n);
    let body = sse(&chunks(&text, 16));
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/event-stream"))
        .mount(&server)
        .await;
    let openai = || {
        OpenAi::compatible(format!("{}/v1", server.uri()))
            .api_key("k")
            .default_model("m")
    };
    let case = Case {
        n,
        provider: Arc::new(openai()),
        client: Client::new(openai()),
    };
    let rounds = at_800 | 1;
    let row = measure(&case, rounds).await;
    println!("the same N = {n} from a local mock HTTP server, OpenAI provider, content deltas:");
    print_row("http", text.len(), rounds, &row);
}

/// The parser alone over the same chunks, building no values, against `serde_json`
/// reading the whole text into the typed value.
fn parser_only(n: usize, runs: usize, lean_only: bool) {
    let text = answer(n);
    let chunks = chunks(&text, 16);
    let time = |f: &dyn Fn() -> usize| {
        let ms: Vec<f64> = (0..runs)
            .map(|_| {
                let start = cpu_ms();
                std::hint::black_box(f());
                cpu_ms() - start
            })
            .collect();
        median(ms)
    };
    let lean = time(&|| {
        let mut p = instructor::json::JsonStream::without_values(Default::default());
        let mut closed = 0;
        for c in &chunks {
            p.feed(c.as_bytes(), &mut |_, _, _| closed += 1).unwrap();
        }
        closed
    });
    if lean_only {
        let whole = time(&|| {
            let mut p = instructor::json::JsonStream::without_values(Default::default());
            let mut closed = 0;
            p.feed(text.as_bytes(), &mut |_, _, _| closed += 1).unwrap();
            closed
        });
        println!(
            "N = {n}: parser without values {lean:.3} ms in 16-byte chunks, {whole:.3} ms \
             in one (medians of {runs})"
        );
        return;
    }
    let tree = time(&|| {
        let mut p = instructor::json::JsonStream::new(Default::default());
        for c in &chunks {
            p.feed(c.as_bytes(), &mut |_, _, _| {}).unwrap();
        }
        usize::from(p.is_complete())
    });
    let serde = time(&|| {
        #[derive(Deserialize)]
        struct Wrapped {
            items: Vec<User>,
        }
        serde_json::from_str::<Wrapped>(&text).unwrap().items.len()
    });
    println!(
        "N = {n}, {} KB: parser without values {lean:.3} ms, with values {tree:.3} ms; \
         serde_json to the typed value {serde:.3} ms (medians of {runs})",
        text.len() / 1024
    );
}

fn request() -> Request {
    let schema = <Vec<User> as Instruct>::type_schema();
    let output = instructor::OutputSpec::new(Mode::Json, schema).expect("json output");
    let mut request = Request::new(vec![instructor::Message::user("x")], output);
    request.model = Some("m".into());
    request
}
