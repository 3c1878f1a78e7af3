//! Runtime schemas against JSONSchemaBench (github.com/guidance-ai/jsonschemabench): per
//! dataset, the share of real-world schemas that `DynamicSchema::new` compiles, and for
//! those, the share each provider's dialect sends (the rest fail with a typed
//! `Error::SchemaIncompatible` before any request) and the share the local GBNF compiler
//! takes. Nothing is sent: bodies are built with `Provider::wire_body`.
//!
//! Files in MaskBench's format (`{"schema", "tests": [{"data", "valid"}]}`) also say whether
//! the compiled schema's check agrees with each test instance's `valid` flag: the
//! "validated" step of an extraction, measured on the benchmark's own instances.
//!
//! `scripts/jsonschemabench.sh` checks the data out and runs this:
//! `cargo run --release --example jsonschemabench -- <data dir>` (one folder per dataset,
//! one schema per `.json` file; or one flat folder, grouped by the name before `_<n>.json`).
//! It prints a Markdown table and the commonest error kinds.

use std::collections::BTreeMap;
use std::path::Path;

use instructor::providers::{gbnf, Anthropic, Cohere, Gemini, Ollama, OpenAi};
use instructor::{provider::OutputSpec, DynamicSchema, Error, Mode, Provider, Request};

/// A provider and the mode it is asked in.
struct Target {
    label: &'static str,
    provider: Box<dyn Provider>,
    mode: Mode,
}

fn targets() -> Vec<Target> {
    let t = |label, provider: Box<dyn Provider>, mode| Target {
        label,
        provider,
        mode,
    };
    vec![
        t(
            "openai json_schema",
            Box::new(OpenAi::new().api_key("x")),
            Mode::JsonSchema,
        ),
        t(
            "openai tools_strict",
            Box::new(OpenAi::new().api_key("x")),
            Mode::ToolsStrict,
        ),
        t(
            "anthropic json_schema",
            Box::new(Anthropic::new().api_key("x")),
            Mode::JsonSchema,
        ),
        t(
            "gemini json_schema",
            Box::new(Gemini::new().api_key("x")),
            Mode::JsonSchema,
        ),
        t(
            "ollama json_schema",
            Box::new(Ollama::new()),
            Mode::JsonSchema,
        ),
        t(
            "cohere json_schema",
            Box::new(Cohere::new().api_key("x")),
            Mode::JsonSchema,
        ),
    ]
}

#[derive(Default)]
struct Row {
    total: usize,
    compiled: usize,
    /// Per target: bodies built.
    sent: Vec<usize>,
    grammar: usize,
    /// Compiled by llguidance in strict mode (a keyword it does not implement is an
    /// error), and in lenient mode as the local engine compiles (such keywords loosen the
    /// grammar and are checked after parsing).
    guidance: usize,
    lenient: usize,
    /// Test instances of compiled schemas, and how many the check classified as the test says.
    tests: usize,
    agreed: usize,
}

/// The dataset a file belongs to: its folder, or in a flat folder the name before `_<n>`.
fn group(file: &Path, flat: bool) -> String {
    if !flat {
        return file
            .parent()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    let stem = file
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.split('-').next().unwrap_or_default();
    match stem.rsplit_once('_') {
        Some((head, n)) if n.chars().all(|c| c.is_ascii_digit()) => head.to_owned(),
        _ => stem.to_owned(),
    }
}

/// The kind of an error and the start of its message, for the summary.
fn kind(e: &Error) -> String {
    let shown = e.to_string();
    let mut end = shown.len().min(90);
    while !shown.is_char_boundary(end) {
        end -= 1;
    }
    let variant = format!("{e:?}");
    let variant = variant
        .split([' ', '{', '('])
        .next()
        .unwrap_or("?")
        .to_owned();
    format!("{variant}: {}", &shown[..end])
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: jsonschemabench <data dir>");
        std::process::exit(2);
    };
    let targets = targets();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut datasets: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d.filter_map(Result::ok).map(|e| e.path()).collect(),
        Err(e) => {
            eprintln!("{dir}: {e}");
            std::process::exit(1);
        }
    };
    datasets.sort();
    let is_json = |f: &Path| f.extension().is_some_and(|e| e == "json");
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for entry in &datasets {
        if entry.is_dir() {
            let mut inner: Vec<_> = std::fs::read_dir(entry)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            inner.sort();
            files.extend(
                inner
                    .into_iter()
                    .filter(|f| is_json(f))
                    .map(|f| (group(&f, false), f)),
            );
        } else if is_json(entry) {
            files.push((group(entry, true), entry.clone()));
        }
    }
    for (name, file) in &files {
        let row = rows.entry(name.clone()).or_default();
        if row.sent.is_empty() {
            row.sent = vec![0; targets.len()];
        }
        row.total += 1;
        measure(file, &targets, row, &mut errors);
    }
    print!("| dataset | schemas | compiled |");
    for t in &targets {
        print!(" {} |", t.label);
    }
    println!(" local GBNF | llguidance strict | local llguidance (lenient) | instances classified right |");
    println!(
        "|---|---|---|{}---|---|---|---|",
        "---|".repeat(targets.len())
    );
    let pct = |n: usize, of: usize| {
        if of == 0 {
            "-".to_owned()
        } else {
            format!("{:.1}%", 100.0 * n as f64 / of as f64)
        }
    };
    for (name, row) in &rows {
        print!(
            "| {name} | {} | {} |",
            row.total,
            pct(row.compiled, row.total)
        );
        for n in &row.sent {
            print!(" {} |", pct(*n, row.compiled));
        }
        println!(
            " {} | {} | {} | {} |",
            pct(row.grammar, row.compiled),
            pct(row.guidance, row.compiled),
            pct(row.lenient, row.compiled),
            if row.tests == 0 {
                "-".to_owned()
            } else {
                format!("{} of {}", row.agreed, row.tests)
            }
        );
    }
    println!("\nShares of dialects and GBNF are of the compiled schemas.\n\nCommonest errors:");
    let mut common: Vec<_> = errors.into_iter().collect();
    common.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (message, n) in common.iter().take(25) {
        println!("- {n} × {message}");
    }
}

/// Whether llguidance compiles `schema` with the local engine's settings (the layout,
/// `uniqueItems` left to the check after parsing, `lenient`) or in strict mode, over a
/// byte-level vocabulary: compiling does not depend on the model.
fn guidance_compiles(schema: &serde_json::Value, lenient: bool) -> Result<(), String> {
    use std::sync::OnceLock;
    static FACTORY: OnceLock<Result<llguidance::ParserFactory, String>> = OnceLock::new();
    let factory = FACTORY
        .get_or_init(|| {
            llguidance::ParserFactory::new_simple(&toktrie::ApproximateTokEnv::single_byte_env())
                .map_err(|e| e.to_string())
        })
        .as_ref()?;
    fn without_unique_items(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if map.contains_key("items") || map.get("type") == Some(&"array".into()) {
                    map.shift_remove("uniqueItems");
                }
                map.values_mut().for_each(without_unique_items);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(without_unique_items),
            _ => {}
        }
    }
    let mut schema = schema.clone();
    without_unique_items(&mut schema);
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "x-guidance".to_owned(),
            serde_json::json!({"whitespace_flexible": false, "key_separator": ": ",
                "item_separator": ", ", "lenient": lenient}),
        );
    }
    let grammar = llguidance::api::TopLevelGrammar::from_json_schema(schema);
    factory
        .create_parser(grammar)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn measure(file: &Path, targets: &[Target], row: &mut Row, errors: &mut BTreeMap<String, usize>) {
    let schema = match std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            *errors.entry(format!("unreadable: {e}")).or_default() += 1;
            return;
        }
    };
    // MaskBench's files carry the schema and test instances; the others are the schema.
    let (schema, tests) = match schema {
        serde_json::Value::Object(mut o) if o.contains_key("schema") && o.contains_key("tests") => {
            let tests = o.remove("tests").unwrap_or_default();
            (o.remove("schema").unwrap_or_default(), tests)
        }
        other => (other, serde_json::Value::Null),
    };
    let dynamic = match DynamicSchema::new("Output", "", schema) {
        Ok(d) => d,
        Err(e) => {
            *errors.entry(format!("compile {}", kind(&e))).or_default() += 1;
            return;
        }
    };
    row.compiled += 1;
    for test in tests.as_array().into_iter().flatten() {
        let (Some(data), Some(valid)) = (
            test.get("data"),
            test.get("valid").and_then(|v| v.as_bool()),
        ) else {
            continue;
        };
        row.tests += 1;
        if dynamic.validate(data).is_ok() == valid {
            row.agreed += 1;
        }
    }
    for (i, t) in targets.iter().enumerate() {
        let body = OutputSpec::new(t.mode, dynamic.schema_ref()).and_then(|output| {
            let mut request = Request::new(vec![instructor::Message::user("x")], output);
            request.model = Some("model".to_owned());
            t.provider.wire_body(&request)
        });
        match body {
            Ok(_) => row.sent[i] += 1,
            Err(e) => {
                *errors
                    .entry(format!("{} {}", t.label, kind(&e)))
                    .or_default() += 1
            }
        }
    }
    if guidance_compiles(&dynamic.type_schema().request_schema, true).is_ok() {
        row.lenient += 1;
    }
    match guidance_compiles(&dynamic.type_schema().request_schema, false) {
        Ok(()) => row.guidance += 1,
        Err(e) => {
            let mut end = e.len().min(90);
            while !e.is_char_boundary(end) {
                end -= 1;
            }
            *errors
                .entry(format!("llguidance: {}", &e[..end]))
                .or_default() += 1;
        }
    }
    match gbnf::compile(&dynamic.type_schema().request_schema) {
        Ok(_) => row.grammar += 1,
        Err(e) => {
            let mut end = e.len().min(90);
            while !e.is_char_boundary(end) {
                end -= 1;
            }
            *errors.entry(format!("gbnf: {}", &e[..end])).or_default() += 1;
        }
    }
}
