//! The CSV long-form reader on the shipped reference models and on one tiny bad file per
//! error, each with the exact line asserted.

use decide_core::{ActionId, Sense, StateId};
use decide_io::csv_model::{self, Meta};
use decide_io::{Format, LoadedModel, ReadError, ReadOptions};
use std::path::{Path, PathBuf};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/mdp");

const SHIPPED: [&str; 5] = [
    "frozenlake4x4_slippery",
    "frozenlake8x8_slippery",
    "forest_S3",
    "forest_S1000",
    "random_N2000_A4_B5_seed42",
];

const HEADER: &str = "state,action,next_state,probability,reward\n";

fn shipped_path(name: &str) -> PathBuf {
    Path::new(TESTDATA).join(format!("{name}.transitions.csv"))
}

fn shipped_meta(name: &str) -> serde_json::Value {
    let path = Path::new(TESTDATA).join(format!("{name}.meta.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Reads `text` as if it were the file `bad.csv` (sidecar `bad.meta.json`).
fn read_text(text: &str, meta: Option<Meta>) -> Result<LoadedModel, ReadError> {
    csv_model::read_from(
        Path::new("bad.csv"),
        text.as_bytes(),
        meta,
        &ReadOptions::default(),
    )
}

/// Asserts that `text` fails at `line` with a message containing `fragment`.
fn check_error(text: &str, meta: Option<Meta>, line: u64, fragment: &str) {
    let error = read_text(text, meta).expect_err("the file should be rejected");
    let message = error.to_string();
    assert_eq!(error.line, Some(line), "wrong line in {message:?}");
    assert!(
        message.starts_with(&format!("bad.csv:{line}: ")),
        "no FILE:LINE prefix in {message:?}"
    );
    assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
}

fn meta_with_states(states: u64) -> Meta {
    Meta {
        states: Some(states),
        ..Meta::default()
    }
}

#[test]
fn every_shipped_model_reads_with_the_sizes_of_its_meta() {
    for name in SHIPPED {
        let model = csv_model::read(&shipped_path(name), &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let meta = shipped_meta(name);
        let count = |field: &str| meta[field].as_u64().unwrap();
        assert_eq!(model.mdp.n_states() as u64, count("states"), "{name}");
        assert_eq!(model.mdp.n_actions() as u64, count("actions"), "{name}");
        assert_eq!(model.summary.rows, count("rows"), "{name}");
        assert_eq!(
            model.summary.merged_duplicates,
            count("duplicate_rows"),
            "{name}"
        );
        assert_eq!(
            model.summary.duplicate_keys,
            count("duplicate_keys"),
            "{name}"
        );
        // "Every state has every action" in the reference data.
        assert_eq!(
            model.mdp.n_pairs(),
            model.mdp.n_states() * model.mdp.n_actions()
        );
        assert!(
            model.summary.max_probability_sum_deviation <= 4.5e-16,
            "{name}"
        );
        assert_eq!(model.discount, Some(0.99));
        assert_eq!(model.sense, Some(Sense::Maximize));
        assert_eq!(model.format, Format::Csv);
        // The absorbing state is an ordinary state with its self-loops, not a terminal one.
        if let Some(absorbing) = meta["absorbing_state"].as_u64() {
            let state = StateId(absorbing as u32);
            assert!(!model.mdp.is_terminal(state));
            assert_eq!(model.mdp.actions(state).count(), model.mdp.n_actions());
        }
    }
}

#[test]
fn frozenlake_8x8_mixed_rewards_are_merged_by_probability_weight() {
    let model = csv_model::read(
        &shipped_path("frozenlake8x8_slippery"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(model.summary.mixed_reward_keys, 4);
    // Lines 591-592: `55,0,64,0.3333333333333333,0.0` and `55,0,64,0.33333333333333337,1.0`.
    let pair = model.mdp.pair_of(StateId(55), ActionId(0)).unwrap();
    let merged = model
        .mdp
        .outcomes(pair)
        .find(|o| o.next == StateId(64))
        .unwrap();
    let (p_first, p_second) = (0.3333333333333333_f64, 0.33333333333333337_f64);
    assert_eq!(merged.probability, p_first + p_second);
    assert_eq!(
        merged.reward,
        (p_first * 0.0 + p_second * 1.0) / (p_first + p_second)
    );
    assert!((merged.reward - 0.5).abs() < 1e-15);
    for name in SHIPPED.iter().filter(|&&n| n != "frozenlake8x8_slippery") {
        let model = csv_model::read(&shipped_path(name), &ReadOptions::default()).unwrap();
        assert_eq!(model.summary.mixed_reward_keys, 0, "{name}");
    }
}

#[test]
fn forest_s3_is_read_exactly() {
    let model = csv_model::read(&shipped_path("forest_S3"), &ReadOptions::default()).unwrap();
    let pair = model.mdp.pair_of(StateId(2), ActionId(0)).unwrap();
    let outcomes: Vec<_> = model.mdp.outcomes(pair).collect();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(
        (outcomes[0].next, outcomes[0].probability),
        (StateId(0), 0.1)
    );
    assert_eq!(
        (outcomes[1].next, outcomes[1].probability),
        (StateId(2), 0.9)
    );
    assert_eq!(model.mdp.pair_reward(pair), 0.1 * 4.0 + 0.9 * 4.0);
}

#[test]
fn probabilities_summing_to_098_name_the_pair_and_the_first_row() {
    let text = format!("{HEADER}0,0,0,0.49,0\n0,0,1,0.49,0\n1,0,1,1.0,0\n");
    check_error(
        &text,
        None,
        2,
        "state s0, action a0: probabilities sum to 0.98",
    );
}

#[test]
// `ReadOptions` is `#[non_exhaustive]`: outside its crate it can only be made by `default()`.
#[allow(clippy::field_reassign_with_default)]
fn the_tolerance_option_is_honoured() {
    let text = format!("{HEADER}0,0,0,0.49,0\n0,0,1,0.49,0\n1,0,1,1.0,0\n");
    let mut options = ReadOptions::default();
    options.probability_tolerance = Some(0.05);
    let model =
        csv_model::read_from(Path::new("loose.csv"), text.as_bytes(), None, &options).unwrap();
    assert!((model.summary.max_probability_sum_deviation - 0.02).abs() < 1e-12);
}

#[test]
fn a_negative_probability_is_rejected() {
    let text = format!("{HEADER}0,0,0,0.5,0\n0,0,1,-0.5,0\n");
    check_error(
        &text,
        None,
        3,
        "probability -0.5 of next state s1 is outside [0, 1]",
    );
}

#[test]
fn non_finite_numbers_are_rejected() {
    let nan = format!("{HEADER}0,0,0,1.0,0\n1,0,0,1.0,NaN\n");
    check_error(&nan, None, 3, "state s1, action a0: reward is NaN");
    let inf = format!("{HEADER}0,0,0,1.0,inf\n");
    check_error(&inf, None, 2, "state s0, action a0: reward is inf");
    let overflow = format!("{HEADER}0,0,0,1e999,0\n");
    check_error(
        &overflow,
        None,
        2,
        "probability is inf, not a finite number",
    );
}

#[test]
fn a_next_state_out_of_the_declared_range_is_rejected() {
    let text = format!("{HEADER}0,0,1,1.0,0\n1,0,2,1.0,0\n");
    check_error(
        &text,
        Some(meta_with_states(2)),
        3,
        "next state 2 is out of range (the model has 2 states",
    );
}

#[test]
fn an_action_out_of_the_declared_range_is_rejected() {
    let text = format!("{HEADER}0,0,0,1.0,0\n0,2,0,1.0,0\n");
    let meta = Meta {
        actions: Some(2),
        ..Meta::default()
    };
    check_error(&text, Some(meta), 3, "action 2 is out of range");
}

#[test]
fn a_state_without_actions_is_named() {
    let text = format!("{HEADER}0,0,2,1.0,0\n2,0,0,1.0,0\n");
    let error = read_text(&text, None).unwrap_err();
    // No row belongs to the state, so there is no line to give.
    assert_eq!(error.line, None);
    assert_eq!(
        error.to_string(),
        "bad.csv: state s1: has no actions and is not marked terminal"
    );
    // Marked terminal in the sidecar, the same rows are a valid model.
    let meta = Meta {
        terminal: vec![1],
        ..Meta::default()
    };
    let model = read_text(&text, Some(meta)).unwrap();
    assert!(model.mdp.is_terminal(StateId(1)));
}

#[test]
fn malformed_fields_name_the_column_and_text() {
    check_error(
        &format!("{HEADER}0,0,0,abc,0\n"),
        None,
        2,
        "probability: \"abc\" is not a number",
    );
    check_error(
        &format!("{HEADER}0,0,0,1.0,\n"),
        None,
        2,
        "reward: \"\" is not a number",
    );
    check_error(
        &format!("{HEADER}0x10,0,0,1.0,0\n"),
        None,
        2,
        "state: \"0x10\" is not a non-negative integer",
    );
    check_error(
        &format!("{HEADER}0,-1,0,1.0,0\n"),
        None,
        2,
        "action: \"-1\" is not a non-negative integer",
    );
    check_error(
        &format!("{HEADER}0,0,1.0,1.0,0\n"),
        None,
        2,
        "next_state: \"1.0\" is not a non-negative integer",
    );
    check_error(
        &format!("{HEADER}0,0,18446744073709551616,1.0,0\n"),
        None,
        2,
        "next_state: \"18446744073709551616\" is not a non-negative integer below 2^64",
    );
}

#[test]
fn ids_beyond_u32_are_out_of_range() {
    check_error(
        &format!("{HEADER}4294967296,0,0,1.0,0\n"),
        None,
        2,
        "state 4294967296 is out of range",
    );
}

#[test]
fn header_problems_are_reported_on_line_1() {
    check_error(
        "state,action,next_state,probability\n0,0,0,1.0\n",
        None,
        1,
        "missing column(s) reward",
    );
    check_error(
        "state,action,next_state,probability,reward,state\n",
        None,
        1,
        "column \"state\" appears more than once",
    );
    check_error(
        "state,action,next_state,probability,reward,weight\n",
        None,
        1,
        "unknown column(s) \"weight\"",
    );
    check_error(
        "0,0,0,1.0,0\n",
        None,
        1,
        "expected the header \"state,action,next_state,probability,reward\"",
    );
}

#[test]
fn an_empty_file_is_an_error() {
    check_error("", None, 1, "empty file: expected the header");
    check_error("\n\n# only a comment\n", None, 1, "empty file");
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_rejected() {
    check_error(
        &format!("{HEADER}0,0,0,1.0,0\n1,0,1,1.0\n"),
        None,
        3,
        "expected 5 fields as in the header, found 4",
    );
}

#[test]
fn byte_order_mark_and_crlf_are_accepted_with_physical_lines() {
    let text =
        "\u{feff}state,action,next_state,probability,reward\r\n0,0,1,1.0,2.5\r\n1,0,1,1.0,0\r\n";
    let model = read_text(text, None).unwrap();
    assert_eq!(model.mdp.n_states(), 2);
    assert_eq!(model.mdp.pair_reward(0), 2.5);
    let bad =
        "\u{feff}state,action,next_state,probability,reward\r\n0,0,1,1.0,2.5\r\n1,0,1,x,0\r\n";
    check_error(bad, None, 3, "probability: \"x\" is not a number");
}

#[test]
fn reordered_columns_and_spaces_are_accepted() {
    let ordered = format!("{HEADER}0,1,1,0.25,3.0\n0,1,0,0.75,1.0\n1,0,1,1.0,0.5\n");
    let reordered = "reward, probability, next_state, state, action\n\
                     3.0, 0.25, 1, 0, 1\n1.0, 0.75, 0, 0, 1\n0.5, 1.0, 1, 1, 0\n";
    assert_eq!(
        read_text(&ordered, None).unwrap().mdp,
        read_text(reordered, None).unwrap().mdp
    );
}

#[test]
fn blank_and_comment_lines_are_skipped_and_counted() {
    let text = "# a model\n\nstate,action,next_state,probability,reward\n\n0,0,0,1.0,0\n   \n# note\n1,0,1,1.0,0\n";
    let model = read_text(text, None).unwrap();
    assert_eq!(model.summary.rows, 2);
    let bad = "# a model\n\nstate,action,next_state,probability,reward\n\n0,0,0,1.0,0\n# note\n1,0,1,oops,0\n";
    check_error(bad, None, 7, "probability: \"oops\"");
}

#[test]
fn a_state_count_beyond_u32_ids_fails_before_reading() {
    let error = read_text(
        &format!("{HEADER}0,0,0,1.0,0\n"),
        Some(meta_with_states(5_000_000_000)),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "bad.meta.json: state count 5000000000 is too large (at most 4294967295)"
    );
}

#[test]
fn the_sidecar_is_found_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("tiny.transitions.csv");
    let meta_path = dir.path().join("tiny.meta.json");
    std::fs::write(&csv_path, format!("{HEADER}0,0,1,1.0,1\n1,1,1,1.0,0\n")).unwrap();
    std::fs::write(
        &meta_path,
        r#"{"name": "tiny", "states": 3, "actions": 2, "discount": 0.5, "sense": "cost",
            "terminal": [2], "absorbing_state": null,
            "state_names": ["a", "b", "c"], "action_names": ["left", "right"]}"#,
    )
    .unwrap();
    let model = csv_model::read(&csv_path, &ReadOptions::default()).unwrap();
    assert_eq!(model.mdp.n_states(), 3);
    assert!(model.mdp.is_terminal(StateId(2)));
    assert_eq!(model.discount, Some(0.5));
    assert_eq!(model.sense, Some(Sense::Minimize));
    assert_eq!(model.mdp.action_names().unwrap()[1], "right");

    std::fs::write(&meta_path, "{\"states\": 3,\n \"discount\": \"high\"}").unwrap();
    let error = csv_model::read(&csv_path, &ReadOptions::default()).unwrap_err();
    assert_eq!(error.path, meta_path);
    assert_eq!(error.line, Some(2));
    assert!(
        error.to_string().contains("invalid type: string \"high\""),
        "{error}"
    );

    std::fs::write(&meta_path, "{\"discount\": 1.5}").unwrap();
    let error = csv_model::read(&csv_path, &ReadOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("discount 1.5 is outside [0, 1]"),
        "{error}"
    );

    std::fs::write(&meta_path, "{\"sense\": \"sideways\"}").unwrap();
    let error = csv_model::read(&csv_path, &ReadOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains("unknown sense \"sideways\""),
        "{error}"
    );

    std::fs::write(
        &meta_path,
        "{\"states\": 3, \"terminal\": [2], \"state_names\": [\"a\"]}",
    )
    .unwrap();
    let error = csv_model::read(&csv_path, &ReadOptions::default()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("state_names has 1 names but the model has 3"),
        "{error}"
    );

    std::fs::write(&meta_path, "{\"states\": 3, \"terminal\": [7]}").unwrap();
    let error = csv_model::read(&csv_path, &ReadOptions::default()).unwrap_err();
    assert_eq!(error.path, meta_path);
    assert!(
        error.to_string().contains("state 7 is out of range"),
        "{error}"
    );

    std::fs::remove_file(&meta_path).unwrap();
    let model = csv_model::read(&csv_path, &ReadOptions::default()).unwrap();
    assert_eq!(model.discount, None);
}

#[test]
fn a_missing_file_is_an_io_error() {
    let error =
        csv_model::read(Path::new("/nonexistent/model.csv"), &ReadOptions::default()).unwrap_err();
    assert!(error.is_io());
    assert!(error.to_string().starts_with("/nonexistent/model.csv: "));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let inputs: [&[u8]; 6] = [
        b"\xff\xfe\x00garbage",
        b"state,action,next_state,probability,reward\n\xff,0,0,1,0\n",
        b"state,action,next_state,probability,reward\n0,0,0,\xff,0\n",
        b"\"unterminated,quote\n",
        b"state,action,next_state,probability,reward\n\"0\",\"0\",\"0\",\"1\",\"0\"\n",
        b",,,,\n,,,,\n",
    ];
    for input in inputs {
        let _ = csv_model::read_from(Path::new("fuzz.csv"), input, None, &ReadOptions::default());
    }
}

#[test]
fn lines_stay_exact_across_quoted_newlines_and_a_missing_final_newline() {
    let text = format!("{HEADER}0,0,0,1.0,\"0\n\"\n1,0,1,1.0,0\n2,0,2,1.0,bad");
    check_error(&text, None, 5, "reward: \"bad\" is not a number");
    let crlf_without_final_newline =
        "state,action,next_state,probability,reward\r\n\r\n0,0,0,1.0,?";
    check_error(crlf_without_final_newline, None, 3, "reward: \"?\"");
}
