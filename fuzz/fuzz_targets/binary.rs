//! The binary `.decide` reader. Both XXH64 checksums (of header bytes 0..120, and of
//! everything after the header) guard the file, so random edits almost never get past them:
//! each input is read once as it is (the magic, length and checksum checks), then with both
//! checksums recomputed ("resealed", as `crates/io/tests/fuzz_readers.rs` does), so that the
//! header's counts, the section layout and the model's invariants behind the checksums are
//! what libFuzzer explores. The resealed bytes are read as a stream of unknown length
//! (standard input: arrays grow only as bytes arrive) and as a file (whose length is
//! compared with the header's before anything is allocated).
//!
//! Besides "no panic": errors have the shape of `common::check`; an accepted model is valid
//! and comes back unchanged through the binary writer. (The JSON round trip of the other
//! targets does not apply: a file may carry any probability tolerance in its header.)
#![no_main]

#[path = "common.rs"]
mod common;

use decide_io::{LoadedModel, ReadError, ReadOptions, binary};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    let stream = Path::new("fuzz.decide");
    let options = ReadOptions::default();
    check(stream, binary::read_from(stream, data, &options));

    if data.len() < binary::HEADER_BYTES {
        // Nothing to reseal; the file reader's short-file path still runs.
        check_file(data);
        return;
    }
    let mut sealed = data.to_vec();
    binary::reseal(&mut sealed);
    check(stream, binary::read_from(stream, &sealed[..], &options));
    check_file(&sealed);
});

/// Reads `bytes` from a file, so that the reader knows the length before the header.
fn check_file(bytes: &[u8]) {
    // One file per fuzzing process, rewritten for each input; libFuzzer exits without
    // cleaning up, so each run leaves its small `decide-fuzz-PID.decide` behind.
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    let path = FILE.get_or_init(|| {
        std::env::temp_dir().join(format!("decide-fuzz-{}.decide", std::process::id()))
    });
    std::fs::write(path, bytes).expect("write the fuzz input to a temporary file");
    check(path, binary::read(path, &ReadOptions::default()));
}

fn check(path: &Path, result: Result<LoadedModel, ReadError>) {
    let model = match result {
        Err(error) => return common::check(path, Err(error)),
        Ok(model) => model,
    };
    assert!(model.mdp.n_states() > 0, "an accepted model has states");
    let mut written = Vec::new();
    binary::write_to(&mut written, &model.mdp, model.discount, model.sense)
        .expect("an accepted model can be written");
    let again = binary::read_from(
        Path::new("again.decide"),
        &written[..],
        &ReadOptions::default(),
    )
    .unwrap_or_else(|e| panic!("the written model reads back: {e}"));
    assert_eq!(
        again.mdp, model.mdp,
        "the binary round trip changes the model"
    );
    assert_eq!(again.discount, model.discount);
    assert_eq!(again.sense, model.sense);
}
