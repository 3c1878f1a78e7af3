//! A typed `Receipt` (merchant, line items, total) read from a photo of a receipt by a vision
//! model behind any OpenAI-compatible endpoint. The image, `examples/assets/receipt.png`
//! (521 bytes, drawn by `examples/assets/make_receipt.py`), is read from disk, its media type
//! sniffed from its bytes, and sent base64-encoded as an `image_url` part.
//!
//! Needs `OPENAI_API_KEY`; `RECEIPT_BASE_URL` (default `https://api.openai.com/v1`) and
//! `RECEIPT_MODEL` (default `gpt-4o-mini`) point it at another server or model.
//!
//! `cargo run --example receipt`

use instructor::providers::OpenAi;
use instructor::{Client, Error, Image, Instruct, Message, Mode};
use serde::Deserialize;

/// One line of the receipt.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
pub struct LineItem {
    /// What was bought, as printed.
    pub name: String,
    /// Its price.
    pub price: f64,
}

/// A shop receipt.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
pub struct Receipt {
    /// The shop's name, as printed at the top.
    pub merchant: String,
    /// Every line item, in order.
    pub items: Vec<LineItem>,
    /// The total, as printed.
    pub total: f64,
}

/// The receipt image shipped with the examples.
pub const RECEIPT_PNG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/assets/receipt.png");

/// Reads the receipt in the image file at `path`.
pub async fn read_receipt(client: &Client, path: &str) -> Result<Receipt, Error> {
    let image = Image::from_path(path)?;
    client
        .create::<Receipt>()
        .message(Message::user_with_image(
            "Extract the merchant, each line item with its price, and the total from this receipt.",
            image,
        ))
        .send()
        .await
}

/// A client for the endpoint the environment names.
pub fn vision_client() -> Result<Client, Error> {
    let key = std::env::var("OPENAI_API_KEY").map_err(|_| {
        Error::Config("set OPENAI_API_KEY (and RECEIPT_BASE_URL for another server)".into())
    })?;
    let url =
        std::env::var("RECEIPT_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".into());
    let model = std::env::var("RECEIPT_MODEL").unwrap_or_else(|_| "gpt-4o-mini".into());
    Ok(Client::new(OpenAi::compatible(url).api_key(key))
        .model(model)
        .mode(Mode::JsonSchema))
}

#[tokio::main]
async fn main() {
    let client = match vision_client() {
        Ok(client) => client,
        Err(e) => return eprintln!("receipt example: {e}"),
    };
    match read_receipt(&client, RECEIPT_PNG).await {
        Ok(receipt) => println!("{receipt:#?}"),
        Err(e) => eprintln!("receipt example failed: {e}"),
    }
}
