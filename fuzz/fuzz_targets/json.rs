//! The JSON model reader.
#![no_main]

#[path = "common.rs"]
mod common;

use decide_io::{ReadOptions, json_model};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.json");
    common::check(
        path,
        json_model::read_from(path, data, &ReadOptions::default()),
    );
});
