//! Bounded fuzzing of every model reader on the stable toolchain: arbitrary bytes, real and
//! hostile models with random mutations, and soups of each format's own tokens are fed to
//! the CSV (with and without a sidecar), JSON, Cassandra, binary (`.decide`, mutated then
//! resealed with valid checksums) and standard-input readers.
//!
//! What must hold for any input: no panic; an error reads `PATH:LINE: message` or
//! `PATH: message` on one line with no control character; an accepted model is valid and
//! comes back unchanged through the JSON writer. The long, coverage-guided runs are the
//! cargo-fuzz project in `fuzz/` (`scripts/fuzz`); this file keeps a few thousand cases,
//! a few seconds, in every `cargo test`.

use decide_io::{LoadedModel, ReadError, ReadOptions, binary, cassandra, csv_model, json_model};
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Cases per property: enough to reach every reader's error paths in a few seconds.
const CASES: u32 = 2048;

/// [`CASES`], or `DECIDE_FUZZ_CASES` from the environment for a longer bounded run
/// (`DECIDE_FUZZ_CASES=100000 cargo test -p decide-io --test fuzz_readers`: about a minute
/// and a half on two cores).
fn cases() -> u32 {
    std::env::var("DECIDE_FUZZ_CASES")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(CASES)
}

fn config() -> Config {
    Config {
        cases: cases(),
        // Failures are shrunk and reported; the cases are random each run, so a stored
        // regression file would only replay inputs that were already fixed.
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------------------------------
// What every reader promises

/// Panics when `result` breaks a promise of the readers (see the module docs).
fn check(path: &Path, result: Result<LoadedModel, ReadError>) {
    match result {
        Err(error) => check_error_shape(path, &error),
        Ok(model) => check_round_trip(&model),
    }
}

fn check_error_shape(path: &Path, error: &ReadError) {
    let text = error.to_string();
    let prefix = format!("{}:", path.display());
    let rest = text
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("error does not start with {prefix:?}: {text:?}"));
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let message = if digits == 0 {
        rest
    } else {
        let line: u64 = rest[..digits].parse().expect("a line number");
        assert!(line >= 1, "line 0 in {text:?}");
        rest[digits..]
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("no `:` after the line in {text:?}"))
    };
    assert!(
        message.starts_with(' ') && !message.trim().is_empty(),
        "no message after the location in {text:?}"
    );
    assert!(
        !text.chars().any(char::is_control),
        "a control character (a line break or terminal escape) in {text:?}"
    );
}

/// An accepted model is valid, and the JSON writer gives it back unchanged.
fn check_round_trip(model: &LoadedModel) {
    let mdp = &model.mdp;
    assert!(mdp.n_states() > 0, "an accepted model has states");
    let mut written = Vec::new();
    json_model::write_to(&mut written, mdp, model.discount, model.sense)
        .expect("an accepted model can be written");
    let again = json_model::read_from(
        Path::new("again.json"),
        &written[..],
        &ReadOptions {
            // Sums were checked under the source format's tolerance (Cassandra: 1e-5).
            probability_tolerance: Some(1e-5),
            ..ReadOptions::default()
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "the written model reads back: {e}\n{}",
            String::from_utf8_lossy(&written)
        )
    });
    assert_eq!(&again.mdp, mdp, "the JSON round trip changes the model");
    assert_eq!(again.discount, model.discount);
    assert_eq!(again.sense, model.sense);
}

/// The CSV reader, with a sidecar when `meta` is given. Sidecar errors name the sidecar.
fn check_csv(rows: &[u8], meta: Option<&[u8]>) {
    let path = Path::new("fuzz.transitions.csv");
    let meta_path = Path::new("fuzz.meta.json");
    let meta = match meta.map(String::from_utf8_lossy) {
        None => None,
        Some(text) => match csv_model::parse_meta(meta_path, &text) {
            Ok(meta) => Some(meta),
            Err(error) => return check_error_shape(meta_path, &error),
        },
    };
    let result = csv_model::read_from(path, rows, meta, &ReadOptions::default());
    match result {
        Err(error) if error.path == meta_path => check_error_shape(meta_path, &error),
        result => check(path, result),
    }
}

fn check_json(bytes: &[u8]) {
    let path = Path::new("fuzz.json");
    check(
        path,
        json_model::read_from(path, bytes, &ReadOptions::default()),
    );
}

/// Table entries one Cassandra input may expand to here: a few bytes (`states: 16000`,
/// `T: 0 uniform`) can describe a valid model of hundreds of millions of transitions, which
/// is correct but takes minutes to build.
const CASSANDRA_TABLE_BUDGET: u64 = 1 << 20;

fn check_cassandra(bytes: &[u8]) {
    let path = Path::new("fuzz.POMDP");
    check(
        path,
        cassandra::read_from_with_budget(
            path,
            bytes,
            &ReadOptions::default(),
            CASSANDRA_TABLE_BUDGET,
        ),
    );
}

/// The binary reader, on a stream of unknown length (standard input: arrays grow as bytes
/// arrive) and on a file (whose length is checked against the header first). An accepted
/// model must come back unchanged through the binary writer; the JSON round trip does not
/// apply, since a file may carry any probability tolerance in its header.
fn check_binary(bytes: &[u8]) {
    let stream = Path::new("fuzz.decide");
    check_binary_result(
        stream,
        binary::read_from(stream, bytes, &ReadOptions::default()),
    );
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::io::Write::write_all(&mut file, bytes).expect("write the temporary file");
    check_binary_result(
        file.path(),
        binary::read(file.path(), &ReadOptions::default()),
    );
}

fn check_binary_result(path: &Path, result: Result<LoadedModel, ReadError>) {
    let model = match result {
        Err(error) => return check_error_shape(path, &error),
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

/// Standard input: any format, told by its first bytes.
fn check_sniffed(bytes: &[u8]) {
    let path = Path::new(decide_io::STDIN_NAME);
    check(
        path,
        decide_io::read_sniffed(path, bytes, &ReadOptions::default()),
    );
}

// ------------------------------------------------------------------------------------
// Inputs

/// Seed files, by format: small shipped models and the hostile corpus (its big files
/// left out, so that mutations stay cheap).
struct Seeds {
    csv: Vec<Vec<u8>>,
    meta: Vec<Vec<u8>>,
    json: Vec<Vec<u8>>,
    cassandra: Vec<Vec<u8>>,
    /// `.decide` files: the hostile corpus's, and every JSON and Cassandra seed the readers
    /// accept, converted.
    binary: Vec<Vec<u8>>,
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(|| {
        const MAX_SEED_BYTES: u64 = 8 << 10;
        let mut seeds = Seeds {
            csv: Vec::new(),
            meta: Vec::new(),
            json: Vec::new(),
            cassandra: Vec::new(),
            binary: Vec::new(),
        };
        for folder in [
            "mdp",
            "cassandra",
            "hostile/csv",
            "hostile/json",
            "hostile/cassandra",
            "hostile/binary",
            "hostile/stdin",
        ] {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(testdata().join(folder))
                .unwrap_or_else(|e| panic!("testdata/{folder}: {e}"))
                .map(|entry| entry.expect("entry").path())
                .filter(|path| path.metadata().is_ok_and(|m| m.len() <= MAX_SEED_BYTES))
                .collect();
            // Directory order varies; the seeds' order decides which one an index picks.
            entries.sort();
            for path in entries {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                let name = name.to_ascii_lowercase();
                let bytes = std::fs::read(&path).expect("seed file");
                if name.ends_with(".meta.json") {
                    seeds.meta.push(bytes);
                } else if name.ends_with(".csv") {
                    seeds.csv.push(bytes);
                } else if name.ends_with(".reference.json") {
                    // Solutions, not models: the JSON reader's error paths get enough.
                } else if name.ends_with(".json") {
                    seeds.json.push(bytes);
                } else if name.ends_with(".mdp") || name.ends_with(".pomdp") {
                    seeds.cassandra.push(bytes);
                } else if name.ends_with(".decide") {
                    seeds.binary.push(bytes);
                }
            }
        }
        let options = ReadOptions::default();
        let accepted = seeds
            .json
            .iter()
            .filter_map(|text| json_model::read_from(Path::new("s.json"), &text[..], &options).ok())
            .chain(seeds.cassandra.iter().filter_map(|text| {
                cassandra::read_from_with_budget(
                    Path::new("s.MDP"),
                    &text[..],
                    &options,
                    CASSANDRA_TABLE_BUDGET,
                )
                .ok()
            }))
            .collect::<Vec<_>>();
        for model in accepted {
            let mut bytes = Vec::new();
            binary::write_to(&mut bytes, &model.mdp, model.discount, model.sense)
                .expect("an accepted model can be written in the binary form");
            if bytes.len() as u64 <= MAX_SEED_BYTES {
                seeds.binary.push(bytes);
            }
        }
        for (format, list) in [
            ("csv", &seeds.csv),
            ("meta", &seeds.meta),
            ("json", &seeds.json),
            ("cassandra", &seeds.cassandra),
            ("binary", &seeds.binary),
        ] {
            assert!(list.len() >= 5, "few {format} seeds: {}", list.len());
        }
        seeds
    })
}

/// Words that sit on the readers' edges: number forms, id limits, separators, keywords.
const TOKENS: &[&str] = &[
    "0",
    "1",
    "2",
    "-1",
    "-0.0",
    "0.5",
    "1.0",
    "1.",
    ".5",
    "1e999",
    "-1e999",
    "1e-400",
    "nan",
    "NaN",
    "inf",
    "0x1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    ",",
    ",,",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\"",
    "\"\"",
    "#",
    "# c\n",
    "*",
    ":",
    " : ",
    "{",
    "}",
    "[",
    "]",
    "[]",
    "{}",
    "null",
    "true",
    "\\u0000",
    "\\n",
    "\u{feff}",
    "\u{0}",
    "\u{1b}[2J",
    "é",
    "state",
    "action",
    "next_state",
    "probability",
    "reward",
    "\"states\"",
    "\"actions\"",
    "\"discount\"",
    "\"terminal\"",
    "\"terminal_values\"",
    "\"transitions\"",
    "\"sense\"",
    "\"cost\"",
    "discount:",
    "values:",
    "reward",
    "cost",
    "states:",
    "actions:",
    "observations:",
    "start:",
    "start include:",
    "start exclude:",
    "T:",
    "O:",
    "R:",
    "uniform",
    "identity",
    "reset",
    "16777216",
    "4000000000",
];

/// One edit of an input.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR the byte at the position with the value.
    Flip(usize, u8),
    /// Insert a token from [`TOKENS`] at the position.
    InsertToken(usize, usize),
    /// Insert raw bytes at the position.
    InsertBytes(usize, Vec<u8>),
    /// Delete up to this many bytes from the position.
    Delete(usize, usize),
    /// Repeat the bytes from the position, this long, in place.
    Duplicate(usize, usize),
    /// Cut the input at the position.
    Truncate(usize),
}

impl Mutation {
    fn apply(&self, input: &mut Vec<u8>) {
        // Positions are drawn large and wrapped to the input's current length.
        let at = |position: usize, len: usize| position % (len + 1);
        match self {
            Mutation::Flip(position, mask) => {
                if !input.is_empty() {
                    let i = position % input.len();
                    input[i] ^= mask;
                }
            }
            Mutation::InsertToken(position, token) => {
                let i = at(*position, input.len());
                let token = TOKENS[token % TOKENS.len()].as_bytes();
                input.splice(i..i, token.iter().copied());
            }
            Mutation::InsertBytes(position, bytes) => {
                let i = at(*position, input.len());
                input.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete(position, count) => {
                let i = at(*position, input.len());
                let end = (i + count).min(input.len());
                input.drain(i..end);
            }
            Mutation::Duplicate(position, count) => {
                let i = at(*position, input.len());
                let end = (i + count).min(input.len());
                let copy = input[i..end].to_vec();
                input.splice(end..end, copy);
            }
            Mutation::Truncate(position) => {
                let i = at(*position, input.len());
                input.truncate(i);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(p, m)| Mutation::Flip(p, m)),
        (any::<usize>(), any::<usize>()).prop_map(|(p, t)| Mutation::InsertToken(p, t)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Mutation::InsertBytes(p, b)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), 1..64usize).prop_map(|(p, n)| Mutation::Duplicate(p, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// A seed of `pick`'s list, edited by a few random mutations (often one or none, so that
/// many inputs stay close to a valid model and reach the checks behind the syntax).
fn mutated(pick: fn(&Seeds) -> &Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop_oneof![
        1 => proptest::collection::vec(mutation(), 0..1),
        3 => proptest::collection::vec(mutation(), 1..2),
        2 => proptest::collection::vec(mutation(), 2..6),
    ];
    (any::<usize>(), edits).prop_map(move |(index, mutations)| {
        let list = pick(seeds());
        let mut input = list[index % list.len()].clone();
        for m in &mutations {
            m.apply(&mut input);
        }
        input
    })
}

/// A binary seed with random mutations and, often, a header field set to an edge value,
/// then (three times in four) resealed: the checksums alone would refuse nearly every
/// mutated file, and the point is what lies behind them.
fn resealed_binary() -> impl Strategy<Value = Vec<u8>> {
    // Offsets of the header's fields: version, flags, the six counts, discount, sense,
    // tolerance, file length.
    const FIELDS: [usize; 12] = [8, 12, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88];
    const VALUES: [u64; 10] = [
        0,
        1,
        2,
        3,
        255,
        u32::MAX as u64,
        u32::MAX as u64 + 1,
        4_000_000_000,
        1 << 62,
        u64::MAX,
    ];
    let header_edit = prop_oneof![
        1 => Just(None),
        1 => (any::<usize>(), any::<usize>(), any::<bool>())
            .prop_map(|(field, value, wide)| Some((field, value, wide))),
    ];
    (
        mutated(|s| &s.binary),
        header_edit,
        prop_oneof![3 => Just(true), 1 => Just(false)],
    )
        .prop_map(|(mut bytes, edit, seal)| {
            if let Some((field, value, wide)) = edit {
                let at = FIELDS[field % FIELDS.len()];
                let value = VALUES[value % VALUES.len()];
                let width = if wide { 8 } else { 4 };
                if bytes.len() >= at + width {
                    bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
                }
            }
            if seal {
                binary::reseal(&mut bytes);
            }
            bytes
        })
}

/// Up to 512 arbitrary bytes.
fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..512)
}

/// A sequence of [`TOKENS`] and small numbers: text shaped like the formats, whose
/// combinations of keywords, separators and numbers reach deeper than random bytes.
fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            3 => any::<usize>().prop_map(|t| TOKENS[t % TOKENS.len()].to_string()),
            2 => (0u32..4).prop_map(|n| n.to_string()),
            1 => (0.0f64..=1.0).prop_map(|p| p.to_string()),
        ],
        0..80,
    )
    .prop_map(|words| words.join(" ").into_bytes())
}

/// The CSV header, then a soup: rows the reader must walk field by field.
fn csv_soup() -> impl Strategy<Value = Vec<u8>> {
    token_soup().prop_map(|soup| {
        let mut text = b"state,action,next_state,probability,reward\n".to_vec();
        text.extend(soup);
        text
    })
}

/// Cassandra's preamble, then a soup: T, O and R lines the parser must take apart.
fn cassandra_soup() -> impl Strategy<Value = Vec<u8>> {
    token_soup().prop_map(|soup| {
        let mut text =
            b"discount: 0.9\nvalues: reward\nstates: 3\nactions: 2\nobservations: 2\n".to_vec();
        text.extend(soup);
        text
    })
}

/// One outcome row of a [`RandomModel`] state: action, next state, probability, reward.
type OutcomeRow = (u32, u32, f64, f64);

/// A small random model, to be written in each format: the readers' accepting paths and
/// the JSON round trip get as many cases as the error paths.
#[derive(Clone, Debug)]
struct RandomModel {
    discount: f64,
    cost: bool,
    /// Per state: its rows `(action, next, probability, reward)`, or `Err(terminal value)`.
    states: Vec<Result<Vec<OutcomeRow>, f64>>,
    n_actions: u32,
}

/// Rewards that stress number printing and parsing.
fn reward() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(1.0),
        Just(-2.5),
        Just(0.1),
        Just(1e300),
        Just(-1e-300),
        Just(5e-324),
        Just(123456.789),
        -1e6..1e6f64,
    ]
}

/// Rows of one state: each action it has gets outcomes whose probabilities are the parts
/// of a random split of 1 (the last one `1 − Σ others`: 1 within rounding).
fn state_rows(n_states: u32, n_actions: u32) -> impl Strategy<Value = Vec<OutcomeRow>> {
    proptest::collection::btree_map(
        0..n_actions,
        proptest::collection::vec((0..n_states, 1u32..8, reward()), 1..4),
        1..=n_actions as usize,
    )
    .prop_map(|actions| {
        let mut rows = Vec::new();
        for (action, outcomes) in actions {
            let total: u32 = outcomes.iter().map(|o| o.1).sum();
            let mut left = 1.0;
            for (i, &(next, weight, reward)) in outcomes.iter().enumerate() {
                let p = if i + 1 == outcomes.len() {
                    left
                } else {
                    f64::from(weight) / f64::from(total)
                };
                left -= p;
                rows.push((action, next, p, reward));
            }
        }
        rows
    })
}

fn random_model() -> impl Strategy<Value = RandomModel> {
    (1u32..6, 1u32..4).prop_flat_map(|(n_states, n_actions)| {
        (
            prop_oneof![Just(0.0), Just(0.5), Just(0.95), Just(0.999_999)],
            any::<bool>(),
            proptest::collection::vec(
                prop_oneof![
                    4 => state_rows(n_states, n_actions).prop_map(Ok),
                    1 => reward().prop_map(Err),
                ],
                n_states as usize,
            ),
        )
            .prop_map(move |(discount, cost, states)| RandomModel {
                discount,
                cost,
                states,
                n_actions,
            })
    })
}

/// Rust's shortest round-trip form, which every reader parses back to the same number.
fn number(value: f64) -> String {
    format!("{value:?}")
}

impl RandomModel {
    fn rows(&self) -> impl Iterator<Item = (usize, u32, u32, f64, f64)> + '_ {
        self.states.iter().enumerate().flat_map(|(s, state)| {
            state
                .iter()
                .flatten()
                .map(move |&(a, next, p, r)| (s, a, next, p, r))
        })
    }

    /// `[state, value]` for each terminal state, as CSV sidecars and JSON write them.
    fn terminal_values(&self) -> String {
        let pairs: Vec<String> = (self.states.iter().enumerate())
            .filter_map(|(s, state)| {
                state
                    .as_ref()
                    .err()
                    .map(|&v| format!("[{s}, {}]", number(v)))
            })
            .collect();
        pairs.join(", ")
    }

    /// Rows (columns in another order, CRLF line ends) and their sidecar.
    fn csv(&self) -> (String, String) {
        let mut rows = String::from("reward,state,next_state,action,probability\r\n");
        for (s, a, next, p, r) in self.rows() {
            rows.push_str(&format!("{},{s},{next},{a},{}\r\n", number(r), number(p)));
        }
        let meta = format!(
            r#"{{"states": {}, "actions": {}, "discount": {}, "sense": "{}", "terminal_values": [{}]}}"#,
            self.states.len(),
            self.n_actions,
            number(self.discount),
            if self.cost { "cost" } else { "reward" },
            self.terminal_values()
        );
        (rows, meta)
    }

    fn json(&self) -> String {
        let transitions: Vec<String> = (self.rows())
            .map(|(s, a, next, p, r)| format!("[{s}, {a}, {next}, {}, {}]", number(p), number(r)))
            .collect();
        format!(
            "{{\"states\": {}, \"actions\": {}, \"discount\": {}, \"sense\": \"{}\",\n \"terminal_values\": [{}],\n \"transitions\": [{}]}}",
            self.states.len(),
            self.n_actions,
            number(self.discount),
            if self.cost { "minimize" } else { "maximize" },
            self.terminal_values(),
            transitions.join(",\n  ")
        )
    }

    /// Cassandra text: every state has every action there and none is terminal, so each
    /// (state, action) the model lacks loops in place; a row's repeated next states are
    /// added up, and the reward of a repeated next state is the last one written.
    fn cassandra(&self) -> String {
        let n = self.states.len();
        let mut text = format!(
            "discount: {}\nvalues: {}\nstates: {n}\nactions: {}\nT: * identity\n",
            number(self.discount),
            if self.cost { "cost" } else { "reward" },
            self.n_actions
        );
        for (s, state) in self.states.iter().enumerate() {
            let Ok(rows) = state else { continue };
            for a in 0..self.n_actions {
                let mine: Vec<_> = rows.iter().filter(|r| r.0 == a).collect();
                if mine.is_empty() {
                    continue;
                }
                let mut row = vec![0.0; n];
                for r in &mine {
                    row[r.1 as usize] += r.2;
                }
                let row: Vec<String> = row.into_iter().map(number).collect();
                text.push_str(&format!("T: {a} : {s}\n{}\n", row.join(" ")));
                for r in &mine {
                    // Signs are tokens of their own in this format.
                    let reward = match r.3.is_sign_negative() {
                        true => format!("- {}", number(-r.3)),
                        false => number(r.3),
                    };
                    text.push_str(&format!("R: {a} : {s} : {} : * {reward}\n", r.1));
                }
            }
        }
        text
    }
}

/// A model the readers must accept: they do, and it round-trips.
fn check_accepted(result: &Result<LoadedModel, ReadError>, text: &str) {
    match result {
        Ok(model) => check_round_trip(model),
        Err(e) => panic!("a valid model is refused: {e}\n{text}"),
    }
}

// ------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn csv_reader_survives_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_csv(&bytes, None);
    }

    #[test]
    fn csv_reader_survives_mutated_models(rows in mutated(|s| &s.csv)) {
        check_csv(&rows, None);
    }

    #[test]
    fn csv_reader_survives_mutated_sidecars(
        rows in mutated(|s| &s.csv),
        meta in mutated(|s| &s.meta),
    ) {
        check_csv(&rows, Some(&meta));
    }

    #[test]
    fn csv_reader_survives_token_soup(rows in csv_soup()) {
        check_csv(&rows, None);
    }

    #[test]
    fn json_reader_survives_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_json(&bytes);
    }

    #[test]
    fn json_reader_survives_mutated_models(bytes in mutated(|s| &s.json)) {
        check_json(&bytes);
    }

    #[test]
    fn json_reader_survives_token_soup(bytes in token_soup()) {
        check_json(&bytes);
    }

    #[test]
    fn cassandra_reader_survives_arbitrary_bytes(bytes in arbitrary_bytes()) {
        check_cassandra(&bytes);
    }

    #[test]
    fn cassandra_reader_survives_mutated_models(bytes in mutated(|s| &s.cassandra)) {
        check_cassandra(&bytes);
    }

    #[test]
    fn cassandra_reader_survives_token_soup(bytes in cassandra_soup()) {
        check_cassandra(&bytes);
    }

    #[test]
    fn binary_reader_survives_arbitrary_bytes(
        bytes in prop_oneof![
            arbitrary_bytes(),
            // The magic first, so that the header is read.
            arbitrary_bytes().prop_map(|rest| [&binary::MAGIC[..], &rest].concat()),
        ]
    ) {
        check_binary(&bytes);
    }

    #[test]
    fn binary_reader_survives_resealed_mutations(bytes in resealed_binary()) {
        check_binary(&bytes);
    }

    #[test]
    fn valid_models_are_accepted_alike_in_csv_and_json(model in random_model()) {
        let options = ReadOptions::default();
        let (rows, meta) = model.csv();
        let meta = csv_model::parse_meta(Path::new("m.meta.json"), &meta).unwrap();
        let from_csv =
            csv_model::read_from(Path::new("m.csv"), rows.as_bytes(), Some(meta), &options);
        check_accepted(&from_csv, &rows);
        let json = model.json();
        let from_json = json_model::read_from(Path::new("m.json"), json.as_bytes(), &options);
        check_accepted(&from_json, &json);
        let (from_csv, from_json) = (from_csv.unwrap(), from_json.unwrap());
        prop_assert_eq!(from_csv.mdp, from_json.mdp);
        prop_assert_eq!(from_csv.summary, from_json.summary);
        prop_assert_eq!(from_csv.discount, from_json.discount);
        prop_assert_eq!(from_csv.sense, from_json.sense);
    }

    #[test]
    fn valid_models_are_accepted_in_cassandra_text(model in random_model()) {
        let text = model.cassandra();
        let path = Path::new("m.MDP");
        check_accepted(&cassandra::read_from(path, text.as_bytes(), &ReadOptions::default()), &text);
    }

    #[test]
    fn stdin_reader_survives_any_format(
        bytes in prop_oneof![
            arbitrary_bytes(),
            mutated(|s| &s.csv),
            mutated(|s| &s.json),
            resealed_binary(),
            // Not mutated Cassandra files: standard input reads them with the full table
            // budget (see `CASSANDRA_TABLE_BUDGET`); the soup's preamble keeps them small.
            cassandra_soup(),
        ]
    ) {
        check_sniffed(&bytes);
    }
}

/// Standard input is read by the reader its first bytes name, to the same model.
#[test]
fn stdin_reads_each_format_as_its_own_reader_does() {
    let options = ReadOptions::default();
    let csv =
        "# a comment first\n\nstate,action,next_state,probability,reward\n0,0,1,1,2\n1,0,0,1,0\n";
    let json = "\u{feff}\n  {\"discount\": 0.5, \"transitions\": [[0, 0, 0, 1, 3]]}";
    let mdp =
        "# pomdp-solve text\ndiscount: 0.9\nvalues: cost\nstates: 2\nactions: 1\nT: 0 identity\n";
    let stdin = Path::new(decide_io::STDIN_NAME);
    let cases: [(&str, LoadedModel); 3] = [
        (
            csv,
            csv_model::read_from(Path::new("m.csv"), csv.as_bytes(), None, &options).unwrap(),
        ),
        (
            json,
            json_model::read_from(Path::new("m.json"), json.as_bytes(), &options).unwrap(),
        ),
        (
            mdp,
            cassandra::read_from(Path::new("m.MDP"), mdp.as_bytes(), &options).unwrap(),
        ),
    ];
    for (text, expected) in cases {
        let model = decide_io::read_sniffed(stdin, text.as_bytes(), &options)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(model, expected, "{text}");
    }
    let error = decide_io::read_sniffed(stdin, &b"\n# only a comment\n"[..], &options)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "<stdin>:1: no model: the input is empty (or only blank and comment lines)"
    );
    let error = decide_io::read_sniffed(
        stdin,
        &b"state,action,next_state,probability,reward\n0,0,0,0.5,0\n"[..],
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("<stdin>:2: "), "{error}");
}

/// Sizes that cannot fit are refused from the declaration, before the rows are read,
/// with the memory they need.
#[test]
fn a_declared_size_beyond_memory_is_refused_with_what_it_needs() {
    let options = ReadOptions::default();
    if decide_io::available_memory().is_none() {
        // No way to know what fits here (not Linux): nothing is refused for its size.
        return;
    }
    let json = r#"{"states": 4294967295, "transitions": [[0, 0, 0, 1, 0]]}"#;
    let error = json_model::read_from(Path::new("big.json"), json.as_bytes(), &options)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("big.json: the model needs at least ")
            && error.contains("GiB of memory (4294967295 states and 1 row), more than the "),
        "{error}"
    );
    let meta =
        csv_model::parse_meta(Path::new("big.meta.json"), r#"{"states": 4000000000}"#).unwrap();
    let rows = "state,action,next_state,probability,reward\n0,0,0,1,0\n";
    let error = csv_model::read_from(
        Path::new("big.transitions.csv"),
        rows.as_bytes(),
        Some(meta),
        &options,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with("big.meta.json: the model needs at least "),
        "{error}"
    );
    // An id implies the count when none is declared: refused before the per-state arrays.
    let rows = "state,action,next_state,probability,reward\n4294967294,0,0,1,0\n";
    let error = csv_model::read_from(Path::new("id.csv"), rows.as_bytes(), None, &options)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("id.csv: the model needs at least "),
        "{error}"
    );
}
