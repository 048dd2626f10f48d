//! The JSON model reader and writer: round trips on the shipped models, and one tiny bad
//! document per error, with its line and place asserted.

use decide_core::{ActionId, Sense, StateId};
use decide_io::{Format, LoadedModel, ReadError, ReadOptions, csv_model, json_model};
use std::path::Path;

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/mdp");

const SHIPPED: [&str; 5] = [
    "frozenlake4x4_slippery",
    "frozenlake8x8_slippery",
    "forest_S3",
    "forest_S1000",
    "random_N2000_A4_B5_seed42",
];

/// The example of the module docs.
const FOREST_WITH_NAMES: &str = r#"{
  "format": "decide-mdp",
  "version": 1,
  "states": ["young", "middle", "old"],
  "actions": ["wait", "cut"],
  "discount": 0.95,
  "sense": "maximize",
  "terminal": [],
  "transitions": [
    [0, 0, 1, 0.9, 0.0],
    [0, 0, 0, 0.1, 0.0],
    [0, 1, 0, 1.0, 1.0],
    [1, 0, 2, 0.9, 0.0],
    [1, 0, 0, 0.1, 0.0],
    [1, 1, 0, 1.0, 1.0],
    [2, 0, 2, 0.9, 4.0],
    [2, 0, 0, 0.1, 4.0],
    [2, 1, 0, 1.0, 2.0]
  ]
}"#;

fn read_text(text: &str) -> Result<LoadedModel, ReadError> {
    json_model::read_from(
        Path::new("bad.json"),
        text.as_bytes(),
        &ReadOptions::default(),
    )
}

/// A document whose `transitions` are `rows`, one per line from line 3 on.
fn with_rows(head: &str, rows: &[&str]) -> String {
    format!("{{{head}\n\"transitions\": [\n{}\n]}}\n", rows.join(",\n"))
}

/// Asserts that `text` fails at `line` with a message containing `fragment`.
fn check_error(text: &str, line: u64, fragment: &str) {
    let error = read_text(text).expect_err("the document should be rejected");
    let message = error.to_string();
    assert_eq!(error.line, Some(line), "wrong line in {message:?}");
    assert!(
        message.starts_with(&format!("bad.json:{line}: ")),
        "no FILE:LINE prefix in {message:?}"
    );
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}

fn write_to_string(model: &LoadedModel) -> String {
    let mut out = Vec::new();
    json_model::write_to(&mut out, &model.mdp, model.discount, model.sense).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_documented_example_reads_with_its_names() {
    let model = read_text(FOREST_WITH_NAMES).unwrap();
    assert_eq!(model.mdp.n_states(), 3);
    assert_eq!(model.mdp.n_actions(), 2);
    assert_eq!(model.discount, Some(0.95));
    assert_eq!(model.sense, Some(Sense::Maximize));
    assert_eq!(model.format, Format::Json);
    assert_eq!(model.mdp.state_names().unwrap()[2], "old");
    assert_eq!(model.mdp.action_names().unwrap()[1], "cut");
    let pair = model.mdp.pair_of(StateId(2), ActionId(0)).unwrap();
    assert_eq!(model.mdp.pair_reward(pair), 0.9 * 4.0 + 0.1 * 4.0);
}

#[test]
fn format_version_and_everything_but_transitions_are_optional() {
    let model =
        read_text(r#"{"transitions": [[0, 0, 1, 1.0, 1.0], [1, 0, 1, 1.0, 0.0]]}"#).unwrap();
    assert_eq!(model.mdp.n_states(), 2);
    assert_eq!(model.discount, None);
    assert_eq!(model.sense, None);
}

#[test]
fn write_then_read_gives_the_same_model_for_every_shipped_model() {
    let dir = tempfile::tempdir().unwrap();
    for name in SHIPPED {
        let csv_path = Path::new(TESTDATA).join(format!("{name}.transitions.csv"));
        let original = csv_model::read(&csv_path, &ReadOptions::default()).unwrap();
        let json_path = dir.path().join(format!("{name}.json"));
        json_model::write(&json_path, &original).unwrap();
        let again = json_model::read(&json_path, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(again.mdp, original.mdp, "{name}");
        assert_eq!(again.discount, original.discount, "{name}");
        assert_eq!(again.sense, original.sense, "{name}");
        // Each merged outcome is written once.
        assert_eq!(again.summary.rows, original.mdp.n_transitions() as u64);
        assert_eq!(again.summary.merged_duplicates, 0);
        // Writing is deterministic: a second round gives the same bytes.
        assert_eq!(
            write_to_string(&again),
            std::fs::read_to_string(&json_path).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn names_terminal_states_and_sense_survive_the_round_trip() {
    let text = r#"{"states": ["a", "b", "end"], "actions": ["go"], "sense": "cost",
                  "discount": 1, "terminal": [2],
                  "transitions": [[0, 0, 1, 0.5, 1.5], [0, 0, 2, 0.5, 1], [1, 0, 2, 1, 0.25]]}"#;
    let model = read_text(text).unwrap();
    assert!(model.mdp.is_terminal(StateId(2)));
    assert_eq!(model.sense, Some(Sense::Minimize));
    let written = write_to_string(&model);
    assert!(written.contains("\"terminal\": [2]"), "{written}");
    assert!(
        written.contains("\"states\": [\"a\",\"b\",\"end\"]"),
        "{written}"
    );
    assert!(written.contains("\"sense\": \"minimize\""), "{written}");
    let again = read_text(&written).unwrap();
    assert_eq!(again.mdp, model.mdp);
    assert_eq!(again.discount, Some(1.0));
}

#[test]
fn the_written_document_is_the_documented_shape() {
    let model = read_text(r#"{"discount": 0.5, "transitions": [[0, 0, 0, 1.0, 0.1]]}"#).unwrap();
    assert_eq!(
        write_to_string(&model),
        "{\n  \"format\": \"decide-mdp\",\n  \"version\": 1,\n  \"states\": 1,\n  \
         \"actions\": 1,\n  \"discount\": 0.5,\n  \"transitions\": [\n    [0, 0, 0, 1.0, 0.1]\n  ]\n}\n"
    );
}

#[test]
fn duplicates_are_merged_by_probability_weight() {
    let text = with_rows(
        "",
        &[
            "[0, 0, 0, 0.25, 0.0]",
            "[0, 0, 0, 0.25, 1.0]",
            "[0, 0, 1, 0.5, 2.0]",
            "[1, 0, 1, 1.0, 0.0]",
        ],
    );
    let model = read_text(&text).unwrap();
    assert_eq!(model.summary.merged_duplicates, 1);
    assert_eq!(model.summary.mixed_reward_keys, 1);
    let first = model.mdp.outcomes(0).next().unwrap();
    assert_eq!((first.probability, first.reward), (0.5, 0.5));
}

#[test]
fn probabilities_summing_to_098_name_the_transition_and_its_line() {
    let text = with_rows(
        "",
        &[
            "[0, 0, 0, 1.0, 0]",
            "[1, 0, 0, 0.49, 0]",
            "[1, 0, 1, 0.49, 0]",
        ],
    );
    check_error(
        &text,
        4,
        "transitions[1]: state s1, action a0: probabilities sum to 0.98",
    );
}

#[test]
fn one_line_documents_still_name_the_transition() {
    let text = r#"{"transitions": [[0, 0, 0, 1.0, 0], [1, 0, 0, -0.5, 0]]}"#;
    check_error(
        text,
        1,
        "transitions[1]: state s1, action a0: probability -0.5 of next state s0 is outside [0, 1]",
    );
}

#[test]
fn bad_numbers_name_the_field() {
    check_error(
        &with_rows("", &["[0, 0, 0, 1.0, 0]", "[1, 0, 1, \"abc\", 0]"]),
        4,
        "transitions[1] probability: \"abc\" is not a number",
    );
    check_error(
        &with_rows("", &["[0, 0, 0, 1.0, \"NaN\"]"]),
        3,
        "transitions[0] reward: \"NaN\" is not a number",
    );
    check_error(
        &with_rows("", &["[0, 0, 0, 1.0, 0]", "[1, 0, 0, 1.0, 1e999]"]),
        4,
        "transitions[1]: state s1, action a0: reward is inf, not a finite number",
    );
    check_error(
        &with_rows("", &["[-1, 0, 0, 1.0, 0]"]),
        3,
        "transitions[0] state: \"-1\" is not a non-negative integer",
    );
    check_error(
        &with_rows("", &["[0, 1.5, 0, 1.0, 0]"]),
        3,
        "transitions[0] action: \"1.5\" is not a non-negative integer",
    );
    check_error(
        &with_rows("", &["[0, 0, 1.0, 1.0, 0]"]),
        3,
        "transitions[0] next_state: \"1.0\" is not a non-negative integer",
    );
    check_error(
        &with_rows("", &["[0, 0, 4294967296, 1.0, 0]"]),
        3,
        "transitions[0]: next state 4294967296 is out of range",
    );
    check_error(
        &with_rows("", &["[0, 0, 18446744073709551616, 1.0, 0]"]),
        3,
        "transitions[0] next_state: \"18446744073709551616\" is not a non-negative integer",
    );
}

#[test]
fn a_transition_of_the_wrong_shape_is_rejected() {
    check_error(
        &with_rows("", &["[0, 0, 0, 1.0]"]),
        3,
        "transitions[0]: expected 5 elements [state, action, next_state, probability, reward], found 4",
    );
    check_error(
        &with_rows("", &["{\"state\": 0}"]),
        3,
        "transitions[0]: invalid type: map, expected an array",
    );
}

#[test]
fn ids_out_of_the_declared_range_are_rejected() {
    check_error(
        &with_rows(
            "\"states\": 2,",
            &["[0, 0, 1, 1.0, 0]", "[1, 0, 2, 1.0, 0]"],
        ),
        4,
        "transitions[1]: next state 2 is out of range (the model has 2 states",
    );
    check_error(
        &with_rows("\"actions\": [\"only\"],", &["[0, 1, 0, 1.0, 0]"]),
        3,
        "transitions[0]: action 1 is out of range",
    );
    check_error(
        "{\"states\": 2,\n\"terminal\": [0,\n 5],\n\"transitions\": []}",
        3,
        "terminal[1]: state 5 is out of range",
    );
    check_error(
        "{\"states\": 2,\n\"terminal\": [-1],\n\"transitions\": []}",
        2,
        "terminal[0]: \"-1\" is not a non-negative integer",
    );
}

#[test]
fn a_state_without_actions_is_named() {
    let error = read_text(&with_rows(
        "\"states\": 3,",
        &["[0, 0, 2, 1.0, 0]", "[2, 0, 0, 1.0, 0]"],
    ))
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "bad.json: state s1: has no actions and is not marked terminal"
    );
}

#[test]
fn document_level_mistakes_carry_serde_json_lines() {
    check_error("", 1, "EOF while parsing");
    check_error("{\n\"states\": 2\n}", 3, "missing field `transitions`");
    check_error(
        "{\n\"discont\": 0.9,\n\"transitions\": []}",
        2,
        "unknown field `discont`",
    );
    check_error(
        "{\"format\": \"other\",\n\"transitions\": []}",
        1,
        "format is \"other\", expected \"decide-mdp\"",
    );
    check_error(
        "{\n\"version\": 2, \"transitions\": []}",
        2,
        "version 2 is not supported",
    );
    check_error(
        "{\n\n\"discount\": 1.5, \"transitions\": []}",
        3,
        "discount 1.5 is outside [0, 1]",
    );
    check_error(
        "{\"sense\": \"up\", \"transitions\": []}",
        1,
        "unknown sense \"up\"",
    );
    check_error(
        "{\"states\": -3, \"transitions\": []}",
        1,
        "expected a count (a non-negative integer) or a list of names",
    );
    check_error(
        "{\"transitions\": [[0, 0, 0, 1.0, 0]] trailing",
        1,
        "expected `,` or `}`",
    );
    check_error("\n[1, 2]", 2, "a decide model is a JSON object");
}

#[test]
fn an_empty_model_and_a_huge_count_are_model_errors() {
    let error = read_text("{\"transitions\": []}").unwrap_err();
    assert_eq!(error.to_string(), "bad.json: the model has no states");
    let error = read_text("{\"states\": 5000000000, \"transitions\": []}").unwrap_err();
    assert!(
        error
            .to_string()
            .contains("state count 5000000000 is too large"),
        "{error}"
    );
}

#[test]
fn deep_nesting_and_bad_bytes_do_not_crash() {
    let deep = format!(
        "{{\"transitions\": [{}{}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(read_text(&deep).is_err());
    let deep_value = format!(
        "{{\"transitions\": [[0, 0, 0, 1.0, {}0{}]]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(read_text(&deep_value).is_err());
    let error = json_model::read_from(
        Path::new("bad.json"),
        &b"{\"transitions\":\n [\xff]}"[..],
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "bad.json:2: invalid UTF-8");
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let model = read_text("\u{feff}{\"transitions\": [[0, 0, 0, 1.0, 0]]}").unwrap();
    assert_eq!(model.mdp.n_states(), 1);
}

#[test]
fn a_non_finite_discount_is_not_written() {
    let model = read_text("{\"transitions\": [[0, 0, 0, 1.0, 0]]}").unwrap();
    let mut out = Vec::new();
    let error = json_model::write_to(&mut out, &model.mdp, Some(f64::NAN), None).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}
