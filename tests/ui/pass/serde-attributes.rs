use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Event {
    #[serde(rename = "eventName", alias = "name")]
    event_name: String,
    start_time: String,
    #[serde(default)]
    attendees: Vec<String>,
    #[serde(skip)]
    cache: Option<u64>,
    #[serde(skip_deserializing)]
    computed: u8,
    #[serde(flatten)]
    place: Place,
    r#type: String,
}

#[derive(Instruct, Deserialize)]
struct Place {
    city: String,
}

#[derive(Instruct, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "SCREAMING-KEBAB-CASE")]
enum Adjacent {
    Text(String),
    Pair { left: u8, right: u8 },
    Nothing,
}

#[derive(Instruct, Deserialize)]
#[serde(untagged)]
enum Either {
    Number(f64),
    Word(String),
}

#[derive(Instruct, Deserialize)]
#[serde(rename_all_fields = "UPPERCASE")]
enum Ops {
    Add { left_side: i32 },
    #[serde(rename(deserialize = "subtract"))]
    Sub { left_side: i32 },
    #[serde(skip)]
    Internal,
    #[serde(untagged)]
    Raw(String),
}

#[derive(Instruct, Deserialize)]
#[serde(transparent)]
struct Meters {
    value: f64,
}

#[derive(Instruct, Deserialize)]
#[serde(crate = "serde", bound = "")]
struct WithUnknownSerdeItems {
    #[serde(with = "plain", default = "zero")]
    n: u8,
}

mod plain {
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

fn zero() -> u8 {
    0
}

fn main() {
    let _ = Event::json_schema();
    let _ = Adjacent::json_schema();
    let _ = Either::json_schema();
    let _ = Ops::json_schema();
    let _ = Meters::json_schema();
    let _ = WithUnknownSerdeItems::json_schema();
}
