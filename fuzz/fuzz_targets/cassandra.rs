//! The Cassandra MDP/POMDP reader, with a table budget of 2^20 entries instead of the
//! product's 2^28: a 60-byte file (`states: 16000`, `T: 0 uniform`) is a valid model of 256
//! million transitions that takes minutes and gigabytes to build. That is correct, and the
//! budget and memory guard bound it; but a fuzzer spending that on one input (a libFuzzer
//! timeout, found in the first long run) explores nothing. The budget's own error paths are
//! reached all the more.
#![no_main]

#[path = "common.rs"]
mod common;

use decide_io::{ReadOptions, cassandra};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

/// Table entries one input may make the reader write or visit.
const TABLE_BUDGET: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.POMDP");
    let result =
        cassandra::read_from_with_budget(path, data, &ReadOptions::default(), TABLE_BUDGET);
    common::check(path, result);
});
