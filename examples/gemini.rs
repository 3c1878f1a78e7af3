//! Gemini with `responseJsonSchema`: multi-label classification of support tickets into
//! a fixed set of labels (a Rust enum), with the reasoning written before the labels, as
//! in the original classification docs. Needs `GEMINI_API_KEY`.
//!
//! `cargo run --example gemini`

use instructor::Instruct;
use serde::Deserialize;

/// Where a support ticket is routed. The variants' doc comments are sent to the model.
#[derive(Instruct, Deserialize, Debug)]
#[serde(rename_all = "snake_case")]
enum Label {
    /// Something does not work: errors, crashes, lost access.
    TechIssue,
    /// Invoices, charges, refunds and payment methods.
    Billing,
    /// Anything else.
    GeneralQuery,
}

/// The labels that apply to one support ticket.
#[derive(Instruct, Deserialize, Debug)]
struct TicketLabels {
    /// Reason step by step about what the customer needs before choosing labels.
    chain_of_thought: String,
    /// Every label that applies.
    #[instruct(non_empty)]
    labels: Vec<Label>,
}

const TICKETS: [&str; 3] = [
    "My account is locked and I can't see my billing information.",
    "I was charged twice for my subscription this month.",
    "Do you have an office in Berlin?",
];

#[tokio::main]
async fn main() {
    let client = match instructor::from_provider("gemini/gemini-2.5-flash") {
        Ok(c) => c,
        Err(e) => return eprintln!("gemini example: {e}"),
    };
    for ticket in TICKETS {
        let labels = client
            .create::<TicketLabels>()
            .system("Classify the support ticket.")
            .user(ticket)
            .send()
            .await;
        match labels {
            Ok(t) => println!("{ticket}\n  {:?}: {}", t.labels, t.chain_of_thought),
            Err(e) => return eprintln!("gemini example failed: {e}"),
        }
    }
}
