//! What every fuzz target checks about a reader's answer, besides "no panic" (which libFuzzer
//! catches itself): an error names the file (and line) first; a model that was accepted is
//! valid and survives a round trip through the JSON writer unchanged.

use decide_io::{LoadedModel, ReadError, ReadOptions, json_model};
use std::path::Path;

/// Panics (a finding) when `result` breaks a reader's promises.
pub fn check(path: &Path, result: Result<LoadedModel, ReadError>) {
    match result {
        Err(error) => check_error_shape(path, &error),
        Ok(model) => check_model(&model),
    }
}

/// `path:line: message` or `path: message`, with a line of at least 1.
fn check_error_shape(path: &Path, error: &ReadError) {
    let text = error.to_string();
    let prefix = format!("{}:", path.display());
    let rest = text
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("error does not start with {prefix:?}: {text:?}"));
    let after_line = match rest.find(|c: char| !c.is_ascii_digit()) {
        Some(0) => rest,
        Some(end) => {
            let line: u64 = rest[..end].parse().expect("a line number");
            assert!(line >= 1, "line 0 in {text:?}");
            rest[end..]
                .strip_prefix(':')
                .unwrap_or_else(|| panic!("no `:` after the line in {text:?}"))
        }
        None => panic!("nothing after the location in {text:?}"),
    };
    assert!(
        after_line.starts_with(' ') && after_line.trim().len() > 0,
        "no message after the location in {text:?}"
    );
    // One line, and nothing a terminal would interpret: input quoted in messages is
    // escaped.
    assert!(
        !text.chars().any(char::is_control),
        "a control character in the error: {text:?}"
    );
}

fn check_model(model: &LoadedModel) {
    let mdp = &model.mdp;
    assert!(mdp.n_states() > 0, "an accepted model has states");
    let mut written = Vec::new();
    json_model::write_to(&mut written, mdp, model.discount, model.sense)
        .expect("an accepted model can be written");
    let again = json_model::read_from(
        Path::new("again.json"),
        &written[..],
        &ReadOptions {
            // The writer prints merged probabilities, whose sums were within the source
            // format's tolerance (Cassandra's is 1e-5): read them back under it.
            probability_tolerance: Some(1e-5),
            ..ReadOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("the written model reads back: {e}"));
    assert_eq!(
        again.mdp, model.mdp,
        "the JSON round trip changes the model"
    );
    assert_eq!(again.discount, model.discount);
    assert_eq!(again.sense, model.sense);
}
