//! Tests of the Cassandra `.MDP` / `.POMDP` reader: our own fixtures under
//! `testdata/cassandra/`, inline bad inputs (each with its line and message), and an opt-in
//! comparison with the public example files (set `DECIDE_CASSANDRA_CORPUS` to their folder;
//! they cannot be copied into the repository).

use decide_core::{ActionId, Sense, StateId, TabularMdp};
use decide_io::{Format, LoadedModel, ReadError, ReadOptions, cassandra};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------
// Helpers

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/cassandra")
        .join(name)
}

fn read_fixture(name: &str) -> LoadedModel {
    let path = fixture_path(name);
    cassandra::read(&path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn read_text(text: &str) -> Result<LoadedModel, ReadError> {
    cassandra::read_from(
        Path::new("inline.POMDP"),
        text.as_bytes(),
        &ReadOptions::default(),
    )
}

// `ReadOptions` is `#[non_exhaustive]`: outside its crate it has no struct literal.
#[allow(clippy::field_reassign_with_default)]
fn options_with_tolerance(tolerance: f64) -> ReadOptions {
    let mut options = ReadOptions::default();
    options.probability_tolerance = Some(tolerance);
    options
}

/// The pair index of (s, a), which must exist: every state has every action.
fn pair(mdp: &TabularMdp, s: u32, a: u32) -> usize {
    mdp.pair_of(StateId(s), ActionId(a))
        .unwrap_or_else(|| panic!("state {s} has no action {a}"))
}

/// r(s, a) of the model.
fn reward(mdp: &TabularMdp, s: u32, a: u32) -> f64 {
    mdp.pair_reward(pair(mdp, s, a))
}

/// The outcomes of (s, a) as (next, probability, reward), by increasing next state.
fn outcomes(mdp: &TabularMdp, s: u32, a: u32) -> Vec<(u32, f64, f64)> {
    mdp.outcomes(pair(mdp, s, a))
        .map(|o| (o.next.0, o.probability, o.reward))
        .collect()
}

fn assert_close(found: f64, expected: f64, what: &str) {
    assert!(
        (found - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "{what}: found {found}, expected {expected}"
    );
}

/// Asserts each outcome of (s, a): next state and probability exactly, reward within 1e-12.
fn assert_outcomes(mdp: &TabularMdp, s: u32, a: u32, expected: &[(u32, f64, f64)]) {
    let found = outcomes(mdp, s, a);
    assert_eq!(
        found.len(),
        expected.len(),
        "outcomes of (s{s}, a{a}): {found:?}, expected {expected:?}"
    );
    for (f, e) in found.iter().zip(expected) {
        assert_eq!((f.0, f.1), (e.0, e.1), "(s{s}, a{a}): {found:?}");
        assert_close(f.2, e.2, &format!("reward of (s{s}, a{a}) → s{}", e.0));
    }
}

/// Reading `text` fails on `line` with a message containing `fragment`.
fn expect_error(text: &str, line: u64, fragment: &str) -> ReadError {
    let error = match read_text(text) {
        Ok(_) => panic!("expected an error containing {fragment:?}, the file was accepted"),
        Err(e) => e,
    };
    let shown = error.to_string();
    assert_eq!(error.line, Some(line), "wrong line in: {shown}");
    assert!(
        shown.contains(fragment),
        "message lacks {fragment:?}: {shown}"
    );
    assert!(
        shown.starts_with(&format!("inline.POMDP:{line}: ")),
        "{shown}"
    );
    error
}

/// Optimal values by value iteration (Bellman residual below 1e-12), for checking a model
/// against known values while the solver crate is being written.
fn value_iteration(mdp: &TabularMdp, discount: f64, sense: Sense) -> Vec<f64> {
    let mut values = vec![0.0; mdp.n_states()];
    for _ in 0..100_000 {
        let mut next_values = vec![0.0; mdp.n_states()];
        let mut residual: f64 = 0.0;
        for (s, slot) in next_values.iter_mut().enumerate() {
            let q = mdp.pairs(StateId(s as u32)).map(|k| {
                mdp.pair_reward(k)
                    + discount
                        * mdp
                            .outcomes(k)
                            .map(|o| o.probability * values[o.next.index()])
                            .sum::<f64>()
            });
            *slot = match sense {
                Sense::Maximize => q.fold(f64::NEG_INFINITY, f64::max),
                Sense::Minimize => q.fold(f64::INFINITY, f64::min),
            };
            residual = residual.max((*slot - values[s]).abs());
        }
        values = next_values;
        if residual < 1e-12 {
            break;
        }
    }
    values
}

// ---------------------------------------------------------------------------------------
// Fixtures

#[test]
fn forest_example_of_the_format_notes() {
    let model = read_fixture("forest.MDP");
    let mdp = &model.mdp;
    assert_eq!(model.format, Format::Cassandra);
    assert_eq!(model.discount, Some(0.96));
    assert_eq!(model.sense, Some(Sense::Maximize));
    assert_eq!((mdp.n_states(), mdp.n_actions()), (3, 2));
    assert_eq!(mdp.state_names().unwrap(), ["young", "middle", "old"]);
    assert_eq!(mdp.action_names().unwrap(), ["wait", "cut"]);
    let (wait, cut) = (0, 1);
    // The matrix row of `old` keeps its 0.1 back to `young`; `R: wait : old : * 4` pays 4
    // on every transition out of `old` under `wait`.
    assert_outcomes(mdp, 0, wait, &[(0, 0.1, 0.0), (1, 0.9, 0.0)]);
    assert_outcomes(mdp, 1, wait, &[(0, 0.1, 0.0), (2, 0.9, 0.0)]);
    assert_outcomes(mdp, 2, wait, &[(0, 0.1, 4.0), (2, 0.9, 4.0)]);
    assert_outcomes(mdp, 0, cut, &[(0, 1.0, 0.0)]);
    assert_outcomes(mdp, 1, cut, &[(0, 1.0, 1.0)]);
    assert_outcomes(mdp, 2, cut, &[(0, 1.0, 2.0)]);
    let expected = [[0.0, 0.0], [0.0, 1.0], [4.0, 2.0]];
    for (s, row) in expected.iter().enumerate() {
        for (a, &r) in row.iter().enumerate() {
            assert_close(
                reward(mdp, s as u32, a as u32),
                r,
                &format!("r(s{s}, a{a})"),
            );
        }
    }
    // The values the notes give for this model (rounded there to 4 decimals).
    let v = value_iteration(mdp, 0.96, Sense::Maximize);
    for (found, expected) in v.iter().zip([74.6496, 78.1056, 82.1056]) {
        assert!((found - expected).abs() < 1e-6, "V = {v:?}");
    }
}

#[test]
fn pomdp_fixture_with_every_form() {
    let model = read_fixture("forms.POMDP");
    let mdp = &model.mdp;
    assert_eq!(model.discount, Some(0.9), "`discount : 0.9` with spaces");
    assert_eq!(model.sense, Some(Sense::Maximize));
    assert_eq!(mdp.state_names().unwrap(), ["low", "mid", "high"]);
    assert_eq!(mdp.action_names().unwrap(), ["stay", "jump", "fix"]);
    let (low, mid, high) = (0, 1, 2);
    let (stay, jump, fix) = (0, 1, 2);

    // stay: `identity`. Reward 1 (the `*` default) except from `low`, where
    // `R: stay : low : * : * -2` applies.
    assert_outcomes(mdp, low, stay, &[(low, 1.0, -2.0)]);
    assert_outcomes(mdp, mid, stay, &[(mid, 1.0, 1.0)]);
    assert_outcomes(mdp, high, stay, &[(high, 1.0, 1.0)]);

    // jump: whole matrix with integer probabilities; the `high` row overwritten by two
    // single entries to (0.75, 0, 0.25).
    // low → mid: O(·|mid, jump) = (0.2, 0.8), R = (4, 8): 0.2·4 + 0.8·8 = 7.2.
    assert_outcomes(mdp, low, jump, &[(low, 0.5, 1.0), (mid, 0.5, 7.2)]);
    // mid → high: O(·|high, jump) = (0.5, 0.5), R = (1, 10): 5.5.
    assert_outcomes(mdp, mid, jump, &[(mid, 0.5, 1.0), (high, 0.5, 5.5)]);
    assert_outcomes(mdp, high, jump, &[(low, 0.75, 1.0), (high, 0.25, 1.0)]);

    // fix: `reset` rows are the start belief (0.5, 0.25, 0.25); `high` is `uniform`.
    assert_outcomes(
        mdp,
        low,
        fix,
        &[(low, 0.5, 1.0), (mid, 0.25, 1.0), (high, 0.25, 1.0)],
    );
    assert_outcomes(
        mdp,
        mid,
        fix,
        &[(low, 0.5, 1.0), (mid, 0.25, 1.0), (high, 0.25, 1.0)],
    );
    // From `high` the (end state × observation) matrix applies, with (low, dark) = 2 after
    // the last line; O(·|s', fix) = (0.9, 0.1) for every s'.
    // → low: 0.9·2 + 0.1·0 = 1.8; → mid: 0.9·1 + 0.1·3 = 1.2; → high: 0.9·5 + 0.1·7 = 5.2.
    let third = 1.0 / 3.0;
    assert_outcomes(
        mdp,
        high,
        fix,
        &[(low, third, 1.8), (mid, third, 1.2), (high, third, 5.2)],
    );

    // Per-pair rewards r(s, a) = Σ_s' T·r(s, a, s'), by hand.
    let expected = [
        [-2.0, 0.5 * 1.0 + 0.5 * 7.2, 1.0],
        [1.0, 0.5 * 1.0 + 0.5 * 5.5, 1.0],
        [1.0, 1.0, (1.8 + 1.2 + 5.2) / 3.0],
    ];
    for (s, row) in expected.iter().enumerate() {
        for (a, &r) in row.iter().enumerate() {
            assert_close(
                reward(mdp, s as u32, a as u32),
                r,
                &format!("r(s{s}, a{a})"),
            );
        }
    }
}

#[test]
fn mdp_fixture_with_mdp_only_forms() {
    let model = read_fixture("forms.MDP");
    let mdp = &model.mdp;
    assert_eq!(
        model.discount,
        Some(1.0),
        "a discount of 1 is stored as given"
    );
    assert_eq!(model.sense, Some(Sense::Minimize), "`values: cost`");
    assert!(mdp.state_names().is_none(), "states were declared by count");
    assert_eq!(mdp.action_names().unwrap(), ["a", "b"]);
    let (a, b) = (0, 1);
    // `R: a` is the whole (start × end) matrix.
    assert_outcomes(mdp, 0, a, &[(1, 1.0, 2.0)]);
    assert_outcomes(mdp, 1, a, &[(2, 1.0, 6.0)]);
    assert_outcomes(mdp, 2, a, &[(2, 1.0, 9.0)]);
    // `T: b : * reset` is one-hot on `start: 2`; state 0 is then rewritten to (1, 0, 0).
    // `R: b : * 10 20 30` is a row over end states, overwritten for state 0 by the
    // 4-field line with `*` as its observation.
    assert_outcomes(mdp, 0, b, &[(0, 1.0, -1.5)]);
    assert_outcomes(mdp, 1, b, &[(2, 1.0, 30.0)]);
    assert_outcomes(mdp, 2, b, &[(2, 1.0, 30.0)]);
}

#[test]
fn last_line_wins_with_wildcards_expanded_in_order() {
    let text = "discount: 0.5\nvalues: reward\nstates: 2\nactions: go\n\
                T: go : * : 1 1.0\n\
                T: go : 0 : * 0.5\n\
                R: go : * : * 3\n\
                R: go : 0 : 1 7\n\
                R: go : * : 1 -1\n\
                R: go : 1 : 1 5\n";
    let model = read_text(text).unwrap();
    let mdp = &model.mdp;
    // State 0's row is (0.5, 0.5) after the wildcard overwrite; state 1 keeps (0, 1).
    assert_outcomes(mdp, 0, 0, &[(0, 0.5, 3.0), (1, 0.5, -1.0)]);
    assert_outcomes(mdp, 1, 0, &[(1, 1.0, 5.0)]);
}

#[test]
fn start_forms_feed_reset() {
    let header = "discount: 0.5\nvalues: reward\nstates: a b c\nactions: x\nobservations: 1\n";
    let body = "T: x : * reset\nO: x uniform\n";
    let cases = [
        ("start include: a 2\n", vec![(0, 0.5), (2, 0.5)]),
        ("start exclude: b\n", vec![(0, 0.5), (2, 0.5)]),
        ("start: c\n", vec![(2, 1.0)]),
        (
            "start: uniform\n",
            vec![(0, 1.0 / 3.0), (1, 1.0 / 3.0), (2, 1.0 / 3.0)],
        ),
        ("", vec![(0, 1.0 / 3.0), (1, 1.0 / 3.0), (2, 1.0 / 3.0)]),
        ("start: 0 1 0\n", vec![(1, 1.0)]),
    ];
    for (start, expected) in cases {
        let model = read_text(&format!("{header}{start}{body}"))
            .unwrap_or_else(|e| panic!("{start:?}: {e}"));
        let found: Vec<(u32, f64)> = outcomes(&model.mdp, 1, 0)
            .iter()
            .map(|&(next, p, _)| (next, p))
            .collect();
        assert_eq!(found, expected, "{start:?}");
    }
}

#[test]
fn lexing_details() {
    // `1.`, `1e0`, `2.5E-1`, `+` and `-` on rewards, comments everywhere, CRLF line ends,
    // no spaces around colons, hyphens and underscores in names.
    let text = "discount:1.\r\nvalues: cost # comment\r\nstates: s-1 s_2\r\nactions: go\r\n\
                T:go:s-1:s_2 1e0\r\nT:go:s_2 2.5E-1 0.75\r\n\
                R:go:*:* + 2\r\nR:go:s_2:s-1 -0.5\r\n";
    let model = read_text(text).unwrap();
    assert_eq!(model.discount, Some(1.0));
    assert_outcomes(&model.mdp, 0, 0, &[(1, 1.0, 2.0)]);
    assert_outcomes(&model.mdp, 1, 0, &[(0, 0.25, -0.5), (1, 0.75, 2.0)]);
}

#[test]
fn tolerance_option_is_honoured() {
    let text = "discount: 0.5\nvalues: reward\nstates: 3\nactions: go\n\
                T: go uniform\nT: go : 0 0.333333 0.333333 0.333333\n";
    // 0.999999 is within the format's 1e-5 …
    let model = read_text(text).unwrap();
    let deviation = model.summary.max_probability_sum_deviation;
    assert!((deviation - 1e-6).abs() < 1e-12, "{deviation}");
    // … but not within 1e-9 when asked for it.
    let strict = options_with_tolerance(1e-9);
    let error =
        cassandra::read_from(Path::new("inline.POMDP"), text.as_bytes(), &strict).unwrap_err();
    assert_eq!(error.line, Some(6), "{error}");
    assert!(error.to_string().contains("sum to 0.999999"), "{error}");
}

#[test]
fn reads_through_read_model_by_extension() {
    let model =
        decide_io::read_model(&fixture_path("forest.MDP"), &ReadOptions::default()).unwrap();
    assert_eq!(model.format, Format::Cassandra);
    let missing =
        cassandra::read(&fixture_path("no-such-file.MDP"), &ReadOptions::default()).unwrap_err();
    assert!(missing.is_io(), "{missing}");
}

// ---------------------------------------------------------------------------------------
// Bad inputs: each names its line and says what is wrong.

/// Lines 1–4; line 5 on are the test's own.
const PREAMBLE: &str = "discount: 0.9\nvalues: reward\nstates: young old\nactions: wait cut\n";
/// Valid T lines for [`PREAMBLE`] (lines 5–6).
const TRANSITIONS: &str = "T: wait identity\nT: cut : * : young 1\n";

#[test]
fn undeclared_action_name() {
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}R: jump : young : * 1\n"),
        7,
        "unknown action `jump`",
    );
}

#[test]
fn undeclared_state_and_index_out_of_range() {
    expect_error(
        &format!("{PREAMBLE}T: wait : young : elderly 1\n"),
        5,
        "unknown state `elderly`",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : 2 : young 1\n"),
        5,
        "state 2 is out of range",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 2\nactions: 1\nT: 0 : a : 0 1\n",
        5,
        "declared by count",
    );
}

#[test]
fn row_not_summing_to_one() {
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}T: wait : old 0.5 0.4\n"),
        7,
        "state `old`, action `wait`: the `T:` probabilities sum to 0.9",
    );
    // A pair that no line sets is reported at the end of the file.
    expect_error(
        &format!("{PREAMBLE}T: wait identity\n\n# no cut\n"),
        5,
        "state `young`, action `cut`: no `T:` line gives this pair a transition",
    );
    // An O row of a POMDP must sum to 1 too: rewards are averaged over it.
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 1\nactions: 1\nobservations: 2\n\
         T: 0 identity\nO: 0 : 0 0.5 0.25\n",
        7,
        "end state 0, action 0: the `O:` probabilities sum to 0.75",
    );
}

#[test]
fn wrong_count_of_matrix_numbers() {
    expect_error(
        &format!("{PREAMBLE}T: wait\n1 0\n0\n{TRANSITIONS}"),
        5,
        "needs 4 numbers (2 × 2: one row per start state), found 3",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait\n1 0\n0 1 0\n"),
        5,
        "needs 4 numbers (2 × 2: one row per start state), found 5",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : young 1\n"),
        5,
        "this `T:` row needs 2 numbers",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : young : old 0.5 0.5\n"),
        5,
        "needs 1 number (one probability), found 2",
    );
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}R: wait : young 1 2 3\n"),
        7,
        "this `R: a : s` row needs 2 numbers (one value per end state), found 3",
    );
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}R: cut\n1 2 3\n"),
        7,
        "this `R: a` matrix needs 4 numbers",
    );
}

#[test]
fn leading_point_is_rejected() {
    expect_error(
        &format!("{PREAMBLE}T: wait : young .5 .5\n"),
        5,
        "write 0.5, not .5",
    );
}

#[test]
fn probabilities_outside_zero_one() {
    expect_error(
        &format!("{PREAMBLE}T: wait : young : old -0.5\n"),
        5,
        "negative probability -0.5",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : young\n0.5\n1.5\n"),
        7,
        "probability 1.5 is outside [0, 1]",
    );
    expect_error(
        "discount: 1.5\nvalues: reward\nstates: 1\nactions: 1\n",
        1,
        "discount 1.5 is outside [0, 1]",
    );
}

#[test]
fn huge_declared_counts_fail_fast() {
    let started = std::time::Instant::now();
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 4000000000\nactions: 2\n",
        3,
        "is more states than this reader supports (at most 16777216)",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 99999999999999999999999\n",
        3,
        "more states than this reader supports",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 16000000\nactions: 16\nT: * identity\n",
        5,
        "(state, action) pairs is more than this reader supports",
    );
    // Dense expansions over many states are refused before anything is allocated…
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 100000\nactions: 1\n\nT: * uniform\n",
        6,
        "table entries",
    );
    // … while the usual zero opening line costs nothing, and the missing rows are found at
    // once.
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: 16000000\nactions: 1\nT: * : * : * 0.0\n",
        5,
        "state 0, action 0: no `T:` line",
    );
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn truncated_files() {
    expect_error(
        &format!("{PREAMBLE}T: wait : young :"),
        5,
        "expected state (a name, an index or `*`), the file ends",
    );
    expect_error(&format!("{PREAMBLE}T: wait\n1 0\n"), 5, "found 2");
    expect_error("discount: 0.9\nvalues:", 2, "expected `reward` or `cost`");
    expect_error("discount: 0.9\nvalues: reward\n", 2, "missing `states:`");
    expect_error("", 1, "missing `discount:`");
}

#[test]
fn random_bytes() {
    let mut text = b"discount: 0.9\n".to_vec();
    text.extend_from_slice(&[0xff, 0x00, 0x9c, 0x41]);
    let error = cassandra::read_from(
        Path::new("inline.POMDP"),
        &text[..],
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(error.line, Some(2), "{error}");
    assert!(
        error.to_string().contains("unexpected byte 0xff"),
        "{error}"
    );

    // Many pseudo-random inputs built from the format's own tokens and some junk: the
    // reader must answer each with a result or an error with a line, never a panic.
    let pieces: [&[u8]; 24] = [
        b"discount: 0.9\n",
        b"values: reward\n",
        b"values: cost\n",
        b"states: 3\n",
        b"states: a b c\n",
        b"actions: 2\n",
        b"observations: 2\n",
        b"start: ",
        b"T:",
        b"O:",
        b"R:",
        b" : ",
        b"*",
        b" 0 ",
        b" a ",
        b" 1.0 ",
        b" 0.5 ",
        b" -1 ",
        b" uniform ",
        b" identity ",
        b" reset ",
        b"\n",
        b"\xff",
        b".",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for _ in 0..2000 {
        let mut input = Vec::new();
        for _ in 0..(next() % 40) {
            if next() % 8 == 0 {
                input.push((next() % 256) as u8);
            } else {
                input.extend_from_slice(pieces[next() % pieces.len()]);
            }
        }
        if let Err(error) =
            cassandra::read_from(Path::new("fuzz.POMDP"), &input[..], &ReadOptions::default())
        {
            let lines = input.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let line = error.line.expect("every error has a line");
            assert!(
                (1..=lines).contains(&line),
                "line {line} of {lines}: {error}"
            );
        }
    }
}

#[test]
fn other_format_rules() {
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}O: wait uniform\n"),
        7,
        "`O:` line in an MDP file",
    );
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}R: wait : young : old : 0 1\n"),
        7,
        "the fourth field of an `R:` line can only be `*`",
    );
    expect_error(
        &format!("{PREAMBLE}{TRANSITIONS}states: 3\n"),
        7,
        "`states:` must come before the T, O and R lines",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: a b a\n",
        3,
        "state `a` is declared twice",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : * reset\n"),
        5,
        "`reset` needs a start state",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: a b\nactions: 1\nobservations: 1\n\
         start exclude: a b\n",
        6,
        "leaves no state to start in",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: a b\nactions: 1\nobservations: 1\n\
         start: 0.5 0.4\n",
        6,
        "the `start:` probabilities sum to 0.9",
    );
    expect_error(
        "discount: 0.9\nvalues: reward\nstates: a b\nactions: 1\nobservations: 1\n\
         T: 0 identity\nO: 0 uniform\nR: 0 1 2 3 4\n",
        8,
        "`R: a <matrix>` is only for MDP files",
    );
    expect_error(
        &format!("{PREAMBLE}T: wait : young : old 1 / 2\n"),
        5,
        "unexpected character `/`",
    );
}

// ---------------------------------------------------------------------------------------
// Opt-in comparison with the public example files.

/// Compares every `NAME.reference.json` in `$DECIDE_CASSANDRA_CORPUS` with what the reader
/// makes of `NAME`: sizes, names, discount, sense, r(s,a) within 1e-9, and V* (by value
/// iteration here) as the folder's README says: |V − Vref| ≤ 1e-6·max(1, |Vref|).
#[test]
fn public_corpus_when_asked() {
    let Some(folder) = std::env::var_os("DECIDE_CASSANDRA_CORPUS") else {
        eprintln!("note: set DECIDE_CASSANDRA_CORPUS to the public Cassandra files to compare");
        return;
    };
    let folder = PathBuf::from(folder);
    let mut references: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".reference.json"))
        .collect();
    references.sort();
    assert!(
        !references.is_empty(),
        "no *.reference.json in {}",
        folder.display()
    );
    let mut failures = Vec::new();
    for reference_path in &references {
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(reference_path).unwrap()).unwrap();
        let name = reference["file"].as_str().unwrap();
        match compare_with_reference(&folder.join(name), &reference) {
            Ok(summary) => eprintln!("ok   {name}: {summary}"),
            Err(problem) => {
                eprintln!("FAIL {name}: {problem}");
                failures.push(format!("{name}: {problem}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn compare_with_reference(path: &Path, reference: &serde_json::Value) -> Result<String, String> {
    let model = cassandra::read(path, &ReadOptions::default()).map_err(|e| e.to_string())?;
    let mdp = &model.mdp;
    let count = |field: &str| reference[field].as_u64().unwrap() as usize;
    if (mdp.n_states(), mdp.n_actions()) != (count("states"), count("actions")) {
        return Err(format!(
            "sizes {}×{}, reference {}×{}",
            mdp.n_states(),
            mdp.n_actions(),
            count("states"),
            count("actions")
        ));
    }
    let names = |field: &str| -> Vec<String> {
        reference[field]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    let or_indices = |given: Option<&[String]>, n: usize| -> Vec<String> {
        given.map_or_else(
            || (0..n).map(|i| i.to_string()).collect(),
            <[String]>::to_vec,
        )
    };
    if or_indices(mdp.state_names(), mdp.n_states()) != names("state_names") {
        return Err(format!("state names {:?}", mdp.state_names()));
    }
    if or_indices(mdp.action_names(), mdp.n_actions()) != names("action_names") {
        return Err(format!("action names {:?}", mdp.action_names()));
    }
    let discount = reference["discount"].as_f64().unwrap();
    if model.discount != Some(discount) {
        return Err(format!(
            "discount {:?}, reference {discount}",
            model.discount
        ));
    }
    let sense = match reference["sense"].as_str().unwrap() {
        "cost" => Sense::Minimize,
        _ => Sense::Maximize,
    };
    if model.sense != Some(sense) {
        return Err(format!("sense {:?}", model.sense));
    }
    let table = reference["expected_reward"].as_array().unwrap();
    let mut largest_gap: f64 = 0.0;
    for (s, row) in table.iter().enumerate() {
        for (a, expected) in row.as_array().unwrap().iter().enumerate() {
            let expected = expected.as_f64().unwrap();
            let Some(k) = mdp.pair_of(StateId(s as u32), ActionId(a as u32)) else {
                return Err(format!("state {s} lacks action {a}"));
            };
            let found = mdp.pair_reward(k);
            largest_gap = largest_gap.max((found - expected).abs());
            if (found - expected).abs() > 1e-9 {
                return Err(format!("r(s{s}, a{a}) = {found}, reference {expected}"));
            }
        }
    }
    let mut summary = format!(
        "{}×{}, r(s,a) within {largest_gap:.1e}",
        mdp.n_states(),
        mdp.n_actions()
    );
    if let Some(values) = reference["V"].as_array() {
        let v = value_iteration(mdp, discount, sense);
        for (s, expected) in values.iter().enumerate() {
            let expected = expected.as_f64().unwrap();
            if (v[s] - expected).abs() > 1e-6 * expected.abs().max(1.0) {
                return Err(format!("V(s{s}) = {}, reference {expected}", v[s]));
            }
        }
        summary.push_str(", V* matches");
    }
    Ok(summary)
}
