//! llama.cpp's `llama-server` in JSON-schema mode, streamed with `create_partial`: the
//! meeting's details are reported as they arrive, then the validated value is printed (the
//! original partial-streaming example). Set `LLAMA_CPP_URL` if it is not at
//! http://127.0.0.1:8080/v1.
//!
//! `cargo run --example llama_cpp_server`

use futures::StreamExt;
use instructor::providers::OpenAi;
use instructor::stream::Update;
use instructor::{Client, Instruct, Mode};
use serde::Deserialize;

/// Someone who took part in the meeting.
#[derive(Instruct, Deserialize, Debug)]
struct Participant {
    name: String,
    #[instruct(email)]
    email: String,
    /// Twitter handle, if given.
    twitter: Option<String>,
}

/// What was agreed in the meeting.
#[derive(Instruct, Deserialize, Debug)]
struct MeetingInfo {
    participants: Vec<Participant>,
    /// The conference date, as written.
    date: String,
    location: String,
    /// In US dollars.
    budget: u32,
    /// The deadline for the blog articles, as written.
    deadline: String,
}

const TEXT: &str = "In our recent online meeting, participants from various backgrounds \
joined to discuss the upcoming tech conference. The names and contact details of the \
participants were as follows:

- Name: John Doe, Email: johndoe@email.com, Twitter: @TechGuru44
- Name: Jane Smith, Email: janesmith@email.com, Twitter: @DigitalDiva88
- Name: Alex Johnson, Email: alexj@email.com, Twitter: @CodeMaster2023

The conference will be held on March 15th, 2024, at the Grand Tech Arena located at 4521 \
Innovation Drive. The budget for the event is set at $50,000, covering venue costs, speaker \
fees, and promotional activities. Each participant is expected to contribute an article to \
the conference blog by February 20th.";

/// Which parts of the meeting have started to arrive (`PartialMeetingInfo` is generated
/// by the derive: every field optional, strings growing as they stream).
fn progress(m: &PartialMeetingInfo) -> String {
    let people = m.participants.as_ref().map_or(0, Vec::len);
    let fields = [
        ("date", m.date.is_some()),
        ("location", m.location.is_some()),
        ("budget", m.budget.is_some()),
        ("deadline", m.deadline.is_some()),
    ];
    let arrived: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
    format!("{people} participant(s) {arrived:?}")
}

#[tokio::main]
async fn main() {
    let url = std::env::var("LLAMA_CPP_URL").unwrap_or_else(|_| "http://127.0.0.1:8080/v1".into());
    let client = Client::new(OpenAi::llama_cpp_server(url)).mode(Mode::JsonSchema);
    let started = client
        .create_partial::<MeetingInfo>()
        .user(format!(
            "Get the information about the meeting and the users:\n{TEXT}"
        ))
        .send()
        .await;
    let mut updates = match started {
        Ok(updates) => updates,
        Err(e) => return eprintln!("llama-server example failed: {e}\n(is llama-server running?)"),
    };
    let mut shown = String::new();
    while let Some(update) = updates.next().await {
        match update {
            Ok(Update::Partial(meeting)) => {
                let now = progress(&meeting);
                if now != shown {
                    println!("so far: {now}");
                    shown = now;
                }
            }
            Ok(Update::Complete { value, usage }) => {
                println!("{value:#?}\n({} tokens)", usage.total_tokens)
            }
            Err(e) => return eprintln!("llama-server example failed: {e}"),
        }
    }
}
