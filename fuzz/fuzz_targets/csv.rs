//! The CSV reader, with a sidecar when the input holds a line `%%`: the text before it is
//! the `meta.json`, the text after it the CSV rows.
#![no_main]

#[path = "common.rs"]
mod common;

use decide_io::{ReadOptions, csv_model};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

const SEPARATOR: &[u8] = b"\n%%\n";

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.transitions.csv");
    let (meta_text, rows) = match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        Some(at) => (Some(&data[..at]), &data[at + SEPARATOR.len()..]),
        None => (None, data),
    };
    let meta = match meta_text.map(String::from_utf8_lossy) {
        None => None,
        Some(text) => match csv_model::parse_meta(Path::new("fuzz.meta.json"), &text) {
            Ok(meta) => Some(meta),
            Err(error) => {
                common::check(Path::new("fuzz.meta.json"), Err(error));
                return;
            }
        },
    };
    let result = csv_model::read_from(path, rows, meta, &ReadOptions::default());
    // Errors about the sidecar's content name the sidecar.
    match &result {
        Err(error) if error.path == Path::new("fuzz.meta.json") => {
            common::check(Path::new("fuzz.meta.json"), result)
        }
        _ => common::check(path, result),
    }
});
