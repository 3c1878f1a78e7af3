use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User<'a> {
    #[serde(skip)]
    name: std::marker::PhantomData<&'a ()>,
}

fn main() {}
