//! The `.decide` reader maps the big sections of a file instead of copying them: the model it
//! gives must be the one that was written, the same as the copying reader's (standard input),
//! and a corrupted byte inside a mapped section must still fail the checksum.

use decide_core::generate::{SplitMixSparse, compile};
use decide_io::binary;
use decide_io::{ReadErrorKind, ReadOptions};
use std::io::Cursor;

/// 30 000 states × 4 actions × 5 outcomes: the next-state (2.4 MB), probability (4.8 MB) and
/// outcome-reward sections are over the 2 MiB at which the reader maps.
fn model() -> decide_core::TabularMdp {
    let generator = SplitMixSparse {
        n_states: 30_000,
        n_actions: 4,
        n_successors: 5,
        seed: 7,
    };
    compile(&generator, true).expect("valid parameters")
}

#[test]
fn mapped_sections_read_back_the_written_model() {
    let mdp = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.decide");
    let mut bytes = Vec::new();
    binary::write_to(&mut bytes, &mdp, Some(0.95), None).unwrap();
    std::fs::write(&path, &bytes).unwrap();

    let options = ReadOptions::default();
    let mapped = binary::read(&path, &options).expect("the file reads");
    let streamed =
        binary::read_from(&path, Cursor::new(&bytes), &options).expect("the stream reads");
    assert_eq!(mapped.mdp, mdp);
    assert_eq!(mapped, streamed);
    assert_eq!(mapped.discount, Some(0.95));

    // The f32 mode maps the other sections and rounds the probabilities into memory.
    let rounded = binary::read(
        &path,
        &ReadOptions {
            f32_probabilities: true,
            ..ReadOptions::default()
        },
    )
    .expect("the f32 read");
    assert_eq!(
        rounded.mdp,
        mdp.clone()
            .without_outcome_rewards()
            .with_f32_probabilities()
    );
}

#[test]
fn a_corrupted_byte_in_a_mapped_section_fails_the_checksum() {
    let mdp = model();
    let mut bytes = Vec::new();
    binary::write_to(&mut bytes, &mdp, None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.decide");
    // Inside the probability section: after the header, the per-state and per-pair arrays
    // (about 1.4 MB) and the 2.4 MB of next states.
    let at = bytes.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(&path, &bytes).unwrap();
    let error = binary::read(&path, &ReadOptions::default()).expect_err("corrupted");
    assert!(
        matches!(&error.kind, ReadErrorKind::Format(m) if m.contains("corrupted")),
        "{error}"
    );
}
