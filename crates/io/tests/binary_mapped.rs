//! With `map_file`, the `.decide` reader maps the big sections of a file instead of copying
//! them: the model it gives must be the one that was written, the same as the copying reader's,
//! and a corrupted byte inside a mapped section must still fail the checksum.

use decide_core::generate::{SplitMixSparse, compile};
use decide_io::binary;
use decide_io::{ReadErrorKind, ReadOptions};
use std::io::Cursor;

/// 30 000 states × 4 actions × 5 outcomes: the next-state (2.4 MB), probability (4.8 MB) and
/// outcome-reward sections are over the 2 MiB at which the reader maps.
fn model_with_seed(seed: u64) -> decide_core::TabularMdp {
    let generator = SplitMixSparse {
        n_states: 30_000,
        n_actions: 4,
        n_successors: 5,
        seed,
    };
    compile(&generator, true).expect("valid parameters")
}

fn model() -> decide_core::TabularMdp {
    model_with_seed(7)
}

/// Reading with maps, as `decide solve` does.
fn mapped_options() -> ReadOptions {
    ReadOptions {
        map_file: true,
        ..ReadOptions::default()
    }
}

#[test]
fn mapped_sections_read_back_the_written_model() {
    let mdp = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.decide");
    let mut bytes = Vec::new();
    binary::write_to(&mut bytes, &mdp, Some(0.95), None).unwrap();
    std::fs::write(&path, &bytes).unwrap();

    let options = mapped_options();
    let mapped = binary::read(&path, &options).expect("the file reads");
    let copied = binary::read(&path, &ReadOptions::default()).expect("the file reads");
    assert_eq!(mapped, copied);
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
            ..mapped_options()
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
    let error = binary::read(&path, &mapped_options()).expect_err("corrupted");
    assert!(
        matches!(&error.kind, ReadErrorKind::Format(m) if m.contains("corrupted")),
        "{error}"
    );
}

#[test]
fn exact_outcomes_come_from_the_file_that_was_loaded_even_if_another_is_renamed_over_it() {
    use decide_core::model::OutcomeSource;
    let mdp = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.decide");
    let mut bytes = Vec::new();
    binary::write_to(&mut bytes, &mdp, None, None).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let options = ReadOptions {
        f32_probabilities: true,
        ..mapped_options()
    };
    let (loaded, mut exact) = binary::read_with_exact_outcomes(&path, &options).unwrap();
    assert_eq!(loaded.mdp.n_transitions(), mdp.n_transitions());

    // Another model (other seed) renamed over the path, as `decide convert` would.
    let other = model_with_seed(8);
    let mut other_bytes = Vec::new();
    binary::write_to(&mut other_bytes, &other, None, None).unwrap();
    let new = dir.path().join("new.decide");
    std::fs::write(&new, &other_bytes).unwrap();
    std::fs::rename(&new, &path).unwrap();

    let csr = mdp.csr();
    let n = mdp.n_transitions();
    let (mut next, mut probability) = (vec![0u32; n], vec![0f64; n]);
    exact.rewind().unwrap();
    for (nb, pb) in next.chunks_mut(70_000).zip(probability.chunks_mut(70_000)) {
        exact.read(nb, pb).unwrap();
    }
    assert_eq!(&next[..], &csr.next[..]);
    assert_eq!(Some(&probability[..]), csr.probability.exact());
}

#[cfg(unix)]
#[test]
fn a_pipe_named_as_a_model_is_read_as_a_stream() {
    let mdp = model();
    let mut bytes = Vec::new();
    binary::write_to(&mut bytes, &mdp, None, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipe.decide");
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("no mkfifo here: skipped");
        return;
    }
    let writer = {
        let path = path.clone();
        std::thread::spawn(move || std::fs::write(path, bytes).unwrap())
    };
    let read = binary::read(&path, &mapped_options()).expect("the pipe reads");
    writer.join().unwrap();
    assert_eq!(read.mdp, mdp);
}
