//! The floor of `bench/evaluate-memory.sh`: read a file and parse it with serde_json, into a
//! `serde_json::Value` (`value`, what a tool that builds the document holds) or into nothing
//! (`ignore`, the bare syntax check). Prints the number of top-level members.
//!
//! `cargo run --release -p immutag-core --example json_floor -- value|ignore FILE`
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (mode, file) = (args[1].as_str(), &args[2]);
    let bytes = std::fs::read(file).expect("read");
    let n = match mode {
        "value" => serde_json::from_slice::<serde_json::Value>(&bytes)
            .expect("parse")
            .as_object()
            .map_or(0, |o| o.len()),
        _ => {
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).expect("parse");
            0
        }
    };
    println!("{n}");
}
