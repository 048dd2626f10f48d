//! decide's JSON model: one self-contained document.
//!
//! ```json
//! {
//!   "format": "decide-mdp",
//!   "version": 1,
//!   "states": ["young", "middle", "old"],
//!   "actions": ["wait", "cut"],
//!   "discount": 0.95,
//!   "sense": "maximize",
//!   "terminal": [],
//!   "transitions": [
//!     [0, 0, 1, 0.9, 0.0],
//!     [0, 0, 0, 0.1, 0.0],
//!     [0, 1, 0, 1.0, 1.0],
//!     [1, 0, 2, 0.9, 0.0],
//!     [1, 0, 0, 0.1, 0.0],
//!     [1, 1, 0, 1.0, 1.0],
//!     [2, 0, 2, 0.9, 4.0],
//!     [2, 0, 0, 0.1, 4.0],
//!     [2, 1, 0, 1.0, 2.0]
//!   ]
//! }
//! ```
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `format` | no (written) | the string `"decide-mdp"` |
//! | `version` | no (written) | the integer `1` |
//! | `states` | no | the number of states, or the list of their names (ids `0..N` in list order); without it, one more than the largest id used |
//! | `actions` | no | the same for actions |
//! | `discount` | no | in `[0, 1]` |
//! | `sense` | no | `"maximize"` (or `"reward"`) / `"minimize"` (or `"cost"`) |
//! | `terminal` | no | ids of terminal states: they need no actions and have value 0 |
//! | `terminal_values` | no | `[[state, value], ...]`: terminal states with a fixed value (collected on arrival) |
//! | `transitions` | yes, or `stages` | one `[state, action, next_state, probability, reward]` per outcome; or, with interval bounds for `--ambiguity interval`, every one `[state, action, next_state, probability, reward, low, high]` (see [`crate::bounds`]; not with `stages`) |
//! | `stages` | instead of `transitions` | a stage-dependent model (finite horizon): `[{"transitions": [...]}, ...]`, stage 0 first; every stage has the states, actions and terminal states of the document |
//!
//! Ids are non-negative integers (`1.0` is not an id); probabilities and rewards are JSON
//! numbers. Repeated `(state, action, next_state)` outcomes are merged as everywhere in
//! decide (probabilities add, rewards are probability-weighted). Unknown fields are errors,
//! so that a misspelt `"discont"` is not silently ignored.
//!
//! Errors give the line: serde_json's for a malformed document, and for an invalid
//! transition its place (`transitions[12]`) and the line where it starts, so that a
//! document printed on one line still points at the culprit.
//!
//! The writer prints one transition per line, each merged outcome once with its merged
//! reward, numbers in shortest round-trip form: reading what it wrote gives the same model.
//!
//! ```
//! use decide_io::{json_model, ReadOptions};
//! use std::path::Path;
//! let text = r#"{"states": 2, "discount": 0.9,
//!                "transitions": [[0, 0, 1, 1.0, 2.5], [1, 0, 1, 1.0, 0.0]]}"#;
//! let model = json_model::read_from(Path::new("two.json"), text.as_bytes(), &ReadOptions::default())?;
//! assert_eq!(model.mdp.n_states(), 2);
//! assert_eq!(model.discount, Some(0.9));
//!
//! let mut written = Vec::new();
//! json_model::write_to(&mut written, &model.mdp, model.discount, model.sense).unwrap();
//! let again = json_model::read_from(Path::new("again.json"), &written[..], &ReadOptions::default())?;
//! assert_eq!(again.mdp, model.mdp);
//! # Ok::<(), decide_io::ReadError>(())
//! ```

use crate::atomic::write_atomically;
use crate::bounds::{self, BoundsRow, OutcomeBounds};
use crate::csv_model::parse_decimal_id;
use crate::{
    Format, LoadedModel, MemoryGuard, ReadError, ReadErrorKind, ReadOptions, StageSize, WriteError,
};
use decide_core::{MdpBuilder, ModelError, Sense, StateId, TabularMdp, ValidationOptions};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;

/// The value of the `format` field.
pub const FORMAT_TAG: &str = "decide-mdp";

/// The version of the document this module reads and writes.
pub const VERSION: u64 = 1;

/// Probability-sum tolerance of the JSON format unless the caller sets one.
pub const DEFAULT_PROBABILITY_TOLERANCE: f64 = 1e-9;

/// The document as parsed, transitions left as raw text to be checked one by one with
/// their position.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document<'a> {
    #[serde(default, deserialize_with = "check_format_tag")]
    format: (),
    #[serde(default, deserialize_with = "check_version")]
    version: (),
    #[serde(default)]
    states: Option<CountOrNames>,
    #[serde(default)]
    actions: Option<CountOrNames>,
    #[serde(default, deserialize_with = "deserialize_discount")]
    discount: Option<f64>,
    #[serde(default, deserialize_with = "deserialize_sense")]
    sense: Option<Sense>,
    #[serde(default, borrow)]
    terminal: Vec<&'a RawValue>,
    #[serde(default)]
    terminal_values: Vec<(u64, f64)>,
    #[serde(default, borrow)]
    transitions: Option<Vec<&'a RawValue>>,
    #[serde(default, borrow)]
    stages: Option<Vec<StageDocument<'a>>>,
}

/// One stage of a stage-dependent document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StageDocument<'a> {
    #[serde(borrow)]
    transitions: Vec<&'a RawValue>,
}

fn check_format_tag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    let tag = String::deserialize(deserializer)?;
    if tag == FORMAT_TAG {
        Ok(())
    } else {
        Err(de::Error::custom(format!(
            "format is {tag:?}, expected {FORMAT_TAG:?}"
        )))
    }
}

fn check_version<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    let version = u64::deserialize(deserializer)?;
    if version == VERSION {
        Ok(())
    } else {
        Err(de::Error::custom(format!(
            "version {version} is not supported (this decide reads version {VERSION})"
        )))
    }
}

/// A discount, which must lie in `[0, 1]` (1 only for the total-reward criterion).
pub(crate) fn deserialize_discount<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    match Option::<f64>::deserialize(deserializer)? {
        Some(discount) if !(0.0..=1.0).contains(&discount) => Err(de::Error::custom(format!(
            "discount {discount} is outside [0, 1]"
        ))),
        discount => Ok(discount),
    }
}

/// A sense in any spelling [`Sense::from_str`](std::str::FromStr) accepts.
pub(crate) fn deserialize_sense<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Sense>, D::Error> {
    Option::<String>::deserialize(deserializer)?
        .map(|text| text.parse::<Sense>().map_err(de::Error::custom))
        .transpose()
}

/// A serde_json failure as `path:line: message (column c)`.
pub(crate) fn serde_error(path: &Path, error: &serde_json::Error) -> ReadError {
    let full = error.to_string();
    let location = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&location).unwrap_or(&full);
    let line = (error.line() > 0).then_some(error.line() as u64);
    ReadError::new(
        path,
        line,
        ReadErrorKind::Format(format!(
            "{} (column {})",
            escape_controls(message),
            error.column()
        )),
    )
}

/// serde_json quotes what it found (an unknown field's name) as decoded: a `\n` or a
/// terminal escape sequence written in the file would otherwise break the one-line error
/// apart or reach the terminal. Control characters are shown escaped instead.
pub(crate) fn escape_controls(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default());
            escaped
                .into_iter()
                .flatten()
                .chain((!c.is_control()).then_some(c))
        })
        .collect()
}

/// `"states": 3` or `"states": ["a", "b", "c"]`.
enum CountOrNames {
    Count(u64),
    Names(Vec<String>),
}

impl<'de> Deserialize<'de> for CountOrNames {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CountOrNamesVisitor;
        impl<'de> Visitor<'de> for CountOrNamesVisitor {
            type Value = CountOrNames;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a count (a non-negative integer) or a list of names")
            }
            fn visit_u64<E: de::Error>(self, count: u64) -> Result<CountOrNames, E> {
                Ok(CountOrNames::Count(count))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CountOrNames, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(CountOrNames::Names(names))
            }
        }
        deserializer.deserialize_any(CountOrNamesVisitor)
    }
}

/// The elements of one transition as raw text: the first five kept, all of them counted,
/// so that a row of the wrong length is reported as such without allocating per row. The
/// numbers are then read from their text like the CSV reader does (correctly rounded, the
/// ids in plain decimal digits), and errors quote the text as written.
struct TransitionFields<'a> {
    values: [Option<&'a RawValue>; 7],
    len: usize,
}

const TRANSITION_FIELDS: [&str; 7] = [
    "state",
    "action",
    "next_state",
    "probability",
    "reward",
    "low",
    "high",
];

impl<'de> Deserialize<'de> for TransitionFields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = TransitionFields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array [state, action, next_state, probability, reward]")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<TransitionFields<'de>, A::Error> {
                let mut fields = TransitionFields {
                    values: [None; 7],
                    len: 0,
                };
                while let Some(value) = seq.next_element::<&'de RawValue>()? {
                    if let Some(slot) = fields.values.get_mut(fields.len) {
                        *slot = Some(value);
                    }
                    fields.len += 1;
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_seq(FieldsVisitor)
    }
}

/// Reads a JSON model file.
pub fn read(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    let file =
        std::fs::File::open(path).map_err(|e| ReadError::new(path, None, ReadErrorKind::Io(e)))?;
    read_from(path, file, options)
}

/// Reads a JSON model from `input`; `path_for_messages` names it in errors.
///
/// The document is held in memory while it is parsed (its transitions are then checked one
/// by one, borrowing from it), so this needs about the file's size besides the model.
pub fn read_from(
    path_for_messages: &Path,
    mut input: impl Read,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    let path = path_for_messages;
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::new(path, None, ReadErrorKind::Io(e)))?;
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        ReadError::new(
            path,
            Some(line_at(body, e.valid_up_to())),
            ReadErrorKind::Format("invalid UTF-8".to_string()),
        )
    })?;
    read_text(path, text, options)
}

fn read_text(path: &Path, text: &str, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    // serde would also accept a struct written as an array of its fields; that reading of
    // `[1, 2]` only produces confusing messages.
    let start = text.len() - text.trim_start().len();
    if !matches!(text[start..].chars().next(), None | Some('{')) {
        return Err(ReadError::new(
            path,
            Some(line_at(text.as_bytes(), start)),
            ReadErrorKind::Format(format!(
                "a decide model is a JSON object, {{\"transitions\": [...], ...}}; found {:?}",
                text[start..].chars().take(20).collect::<String>()
            )),
        ));
    }
    let document: Document<'_> = serde_json::from_str(text).map_err(|e| serde_error(path, &e))?;
    let Document {
        format: (),
        version: (),
        states,
        actions,
        discount,
        sense,
        terminal,
        terminal_values,
        transitions,
        stages,
    } = document;
    // The transitions of every stage, with the prefix that locates them in the document.
    let stage_lists: Vec<(String, Vec<&RawValue>)> = match (transitions, stages) {
        (Some(transitions), None) => vec![(String::new(), transitions)],
        (None, Some(stages)) if !stages.is_empty() => stages
            .into_iter()
            .enumerate()
            .map(|(t, stage)| (format!("stages[{t}]."), stage.transitions))
            .collect(),
        (None, Some(_)) => {
            return Err(ReadError::new(
                path,
                None,
                ReadErrorKind::Format("`stages` is empty: a model has at least one stage".into()),
            ));
        }
        (None, None) => {
            // Where serde_json would say a field is missing: the end of the document.
            let end = text.trim_end().len().saturating_sub(1);
            return Err(ReadError::new(
                path,
                Some(line_at(text.as_bytes(), end)),
                ReadErrorKind::Format("missing field `transitions` (or `stages`)".into()),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ReadError::new(
                path,
                None,
                ReadErrorKind::Format(
                    "both `transitions` and `stages`: a document has one or the other".into(),
                ),
            ));
        }
    };
    // Only reached on an error: counting newlines is then cheap enough.
    let line_of = |raw: &RawValue| line_at(text.as_bytes(), offset_in(text, raw));
    let located = |raw: &RawValue, location: String, error: ModelError| {
        ReadError::new(
            path,
            Some(line_of(raw)),
            ReadErrorKind::ModelAt { location, error },
        )
    };
    let document_error =
        |error: ModelError| ReadError::new(path, None, ReadErrorKind::Model(error));

    let mut builder = MdpBuilder::new();
    let tolerance = options
        .probability_tolerance
        .unwrap_or(DEFAULT_PROBABILITY_TOLERANCE);
    builder.options(ValidationOptions::with_tolerance(tolerance));
    for (field, prefix, list) in [("states", "s", &states), ("actions", "a", &actions)] {
        let Some(CountOrNames::Names(names)) = list else {
            continue;
        };
        if let Some((first, second, name)) = crate::repeated_name(names) {
            return Err(ReadError::new(
                path,
                None,
                ReadErrorKind::Format(format!(
                    "{field}: {} names both {prefix}{first} and {prefix}{second}; names must be unique",
                    crate::quoted_name(name)
                )),
            ));
        }
    }
    if let Some((k, state, first, second)) = crate::repeated_terminal_value(&terminal_values) {
        return Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(format!(
                "terminal_values[{k}]: state s{state} has a terminal value twice ({first} and {second})"
            )),
        ));
    }
    match states {
        Some(CountOrNames::Count(n)) => {
            builder.declare_states(n).map_err(document_error)?;
        }
        Some(CountOrNames::Names(names)) => {
            builder
                .declare_states(names.len() as u64)
                .map_err(document_error)?;
            builder.state_names(names);
        }
        None => {}
    }
    match actions {
        Some(CountOrNames::Count(n)) => {
            builder.declare_actions(n).map_err(document_error)?;
        }
        Some(CountOrNames::Names(names)) => {
            builder
                .declare_actions(names.len() as u64)
                .map_err(document_error)?;
            builder.action_names(names);
        }
        None => {}
    }
    for (k, &raw) in terminal.iter().enumerate() {
        let location = || format!("terminal[{k}]");
        let state = id_of(raw).map_err(|expected| {
            ReadError::new(
                path,
                Some(line_of(raw)),
                ReadErrorKind::Syntax {
                    column: location(),
                    found: shown(raw),
                    expected,
                },
            )
        })?;
        builder
            .mark_terminal(state)
            .map_err(|e| located(raw, location(), e))?;
    }

    for (k, &(state, value)) in terminal_values.iter().enumerate() {
        builder
            .mark_terminal_with_value(state, value)
            .map_err(|e| {
                ReadError::new(
                    path,
                    None,
                    ReadErrorKind::ModelAt {
                        location: format!("terminal_values[{k}]"),
                        error: e,
                    },
                )
            })?;
    }

    // Declared counts, terminal marks and the number of transitions are known: a model
    // that cannot fit is refused before the rows are allocated.
    let total: usize = stage_lists.iter().map(|(_, list)| list.len()).sum();
    let memory = MemoryGuard::new();
    memory.check(path, None, &builder, total as u64)?;
    let staged = stage_lists.len() > 1;
    // Each stage is a copy of `builder` (its counts, terminal marks and names) compiled to a
    // model of its own: a short `{"transitions": []}` per stage must not ask for a copy of a
    // large model per stage unchecked.
    if staged {
        memory.check_stages(
            path,
            None,
            StageSize::of(&builder),
            stage_lists.len() as u64,
        )?;
    }
    // Interval bounds: told by the first transition's length (7 elements); every transition
    // then has them.
    let with_bounds = match stage_lists.first().and_then(|(_, list)| list.first()) {
        Some(raw) => {
            serde_json::from_str::<TransitionFields>(raw.get()).is_ok_and(|fields| fields.len == 7)
        }
        None => false,
    };
    if with_bounds && staged {
        return Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(
                "interval bounds (7-element transitions) are not supported with `stages`".into(),
            ),
        ));
    }
    let width = if with_bounds { 7 } else { 5 };
    let mut bound_rows: Vec<BoundsRow> = Vec::new();
    let mut built = Vec::with_capacity(stage_lists.len());
    for (prefix, transitions) in &stage_lists {
        let mut builder = builder.clone();
        if with_bounds {
            // Nature may give a zero-probability outcome mass: keep it.
            builder.options(ValidationOptions {
                probability_tolerance: tolerance,
                keep_zero_probability: true,
            });
        }
        builder.reserve(transitions.len());
        for (k, &raw) in transitions.iter().enumerate() {
            let location = || format!("{prefix}transitions[{k}]");
            let fields: TransitionFields = serde_json::from_str(raw.get())
                .map_err(|e| in_element(path, line_of(raw), &location(), &e))?;
            if fields.len != width {
                return Err(ReadError::new(
                    path,
                    Some(line_of(raw)),
                    ReadErrorKind::Format(format!(
                        "{}: expected {width} elements [{}], found {}{}",
                        location(),
                        TRANSITION_FIELDS[..width].join(", "),
                        fields.len,
                        if with_bounds {
                            " (the first transition has interval bounds, so every one does)"
                        } else {
                            ""
                        }
                    )),
                ));
            }
            // Field names are only formatted on an error: nothing is allocated per good row.
            let bad_field = |i: usize, field: &RawValue, expected: &'static str| {
                ReadError::new(
                    path,
                    Some(line_of(raw)),
                    ReadErrorKind::Syntax {
                        column: format!("{} {}", location(), TRANSITION_FIELDS[i]),
                        found: shown(field),
                        expected,
                    },
                )
            };
            let [
                Some(state),
                Some(action),
                Some(next_state),
                Some(probability),
                Some(reward),
                low,
                high,
            ] = fields.values
            else {
                // Unreachable: the length was checked above; kept as an error, never a panic.
                return Err(ReadError::new(
                    path,
                    Some(line_of(raw)),
                    ReadErrorKind::Format(format!("{}: too few elements", location())),
                ));
            };
            let state = id_of(state).map_err(|expected| bad_field(0, state, expected))?;
            let action = id_of(action).map_err(|expected| bad_field(1, action, expected))?;
            let next_state =
                id_of(next_state).map_err(|expected| bad_field(2, next_state, expected))?;
            let probability =
                number_of(probability).map_err(|expected| bad_field(3, probability, expected))?;
            let reward = number_of(reward).map_err(|expected| bad_field(4, reward, expected))?;
            if let (Some(low), Some(high)) = (low, high) {
                bound_rows.push(BoundsRow {
                    key: (state, action, next_state),
                    low: number_of(low).map_err(|expected| bad_field(5, low, expected))?,
                    high: number_of(high).map_err(|expected| bad_field(6, high, expected))?,
                    line: line_of(raw),
                    place: Some(k),
                });
            }
            // The origin is the 1-based transition index (0 means "none" to the builder), so a
            // build error can be traced back to its element and line.
            builder
                .add_at(state, action, next_state, probability, reward, k as u64 + 1)
                .map_err(|e| located(raw, location(), e))?;
        }

        built.push((prefix, builder));
    }
    // Every stage has the same states and actions: the most of any stage.
    let n_states = built
        .iter()
        .map(|(_, b)| b.n_states_so_far())
        .max()
        .unwrap_or(0);
    let n_actions = built
        .iter()
        .map(|(_, b)| b.n_actions_so_far())
        .max()
        .unwrap_or(0);
    if staged {
        for (_, builder) in &mut built {
            builder.declare_states(n_states).map_err(document_error)?;
            builder.declare_actions(n_actions).map_err(document_error)?;
        }
        // Every stage is now a model of the same counts: refused at once if they cannot all
        // fit.
        if let Some((_, stage)) = built.last() {
            memory.check_stages(path, None, StageSize::of(stage), built.len() as u64)?;
        }
    }
    let mut models = Vec::with_capacity(built.len());
    for (t, ((prefix, builder), (_, transitions))) in
        built.into_iter().zip(&stage_lists).enumerate()
    {
        let model = builder.build().map_err(|e| {
            match e
                .origin
                .and_then(|origin| origin.checked_sub(1))
                .and_then(|index| usize::try_from(index).ok())
                .and_then(|k| transitions.get(k).map(|&raw| (k, raw)))
            {
                Some((k, raw)) => located(raw, format!("{prefix}transitions[{k}]"), e.error),
                None if staged => ReadError::new(
                    path,
                    None,
                    ReadErrorKind::ModelAt {
                        location: format!("stages[{t}]"),
                        error: e.error,
                    },
                ),
                None => document_error(e.error),
            }
        })?;
        models.push(model);
    }
    let mut models = models.into_iter();
    let Some((mdp, summary)) = models.next() else {
        return Err(document_error(ModelError::Empty));
    };
    let later_stages = models.map(|(mdp, _)| mdp).collect();
    let bounds = if with_bounds {
        Some(bounds::align(path, &mdp, &bound_rows, tolerance)?)
    } else {
        None
    };
    Ok(LoadedModel {
        mdp,
        summary,
        discount,
        sense,
        format: Format::Json,
        later_stages,
        bounds,
    })
}

/// A serde_json failure inside one element, whose own line/column are relative to it.
fn in_element(path: &Path, line: u64, location: &str, error: &serde_json::Error) -> ReadError {
    let full = error.to_string();
    let relative = format!(" at line {} column {}", error.line(), error.column());
    let message = full.strip_suffix(&relative).unwrap_or(&full);
    ReadError::new(
        path,
        Some(line),
        ReadErrorKind::Format(format!("{location}: {}", escape_controls(message))),
    )
}

/// Byte offset of a raw slice borrowed from `text`.
fn offset_in(text: &str, raw: &RawValue) -> usize {
    (raw.get().as_ptr() as usize)
        .saturating_sub(text.as_ptr() as usize)
        .min(text.len())
}

/// 1-based line of byte `offset`.
fn line_at(bytes: &[u8], offset: usize) -> u64 {
    let before = bytes.get(..offset).unwrap_or(bytes);
    1 + before.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The text of an element for a message: a string's contents, else the JSON as written.
fn shown(raw: &RawValue) -> String {
    const MAX_CHARS: usize = 40;
    let text = serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_string());
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        text.chars().take(MAX_CHARS).chain(['…']).collect()
    }
}

/// An id in plain decimal digits, as in the CSV format: `1.0`, `-1` and `1e3` are not ids.
/// The error is what was expected.
fn id_of(raw: &RawValue) -> Result<u64, &'static str> {
    parse_decimal_id(raw.get().as_bytes())
}

/// A number read from its JSON text by Rust's correctly rounded parser; `1e999` reads as
/// infinity, which the builder rejects naming the state, action and field. The error is
/// what was expected.
fn number_of(raw: &RawValue) -> Result<f64, &'static str> {
    raw.get().parse::<f64>().map_err(|_| "a number")
}

/// Writes `model` as a JSON document at `path`, atomically.
pub fn write(path: &Path, model: &LoadedModel) -> Result<(), WriteError> {
    write_atomically(path, |w| {
        write_document(
            w,
            &model.stages(),
            model.discount,
            model.sense,
            model.bounds.as_ref(),
        )
    })
}

/// Writes `mdp` (and the discount and sense, when given) as a JSON document: one line per
/// merged outcome, with its merged reward, numbers in shortest round-trip form.
///
/// Fails with [`io::ErrorKind::InvalidInput`] for a discount that is not finite, which JSON
/// cannot hold.
pub fn write_to(
    w: &mut dyn Write,
    mdp: &TabularMdp,
    discount: Option<f64>,
    sense: Option<Sense>,
) -> io::Result<()> {
    write_stages_to(w, &[mdp], discount, sense)
}

/// [`write_to`] for a model given stage by stage (stage 0 first, all with the states,
/// actions and terminal states of stage 0): one stage is written as `transitions`, several
/// as `stages`.
pub fn write_stages_to(
    w: &mut dyn Write,
    stages: &[&TabularMdp],
    discount: Option<f64>,
    sense: Option<Sense>,
) -> io::Result<()> {
    write_document(w, stages, discount, sense, None)
}

/// [`write_stages_to`] with the interval bounds of a stationary model, when it has them:
/// every transition is then written `[state, action, next, p, r, low, high]`, so that
/// reading the document back gives the same bounds (see [`crate::bounds`]).
fn write_document(
    w: &mut dyn Write,
    stages: &[&TabularMdp],
    discount: Option<f64>,
    sense: Option<Sense>,
    bounds: Option<&OutcomeBounds>,
) -> io::Result<()> {
    let Some(&mdp) = stages.first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a model has at least one stage",
        ));
    };
    if let Some(b) = bounds {
        if stages.len() > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "interval bounds are not supported with `stages`",
            ));
        }
        if b.low.len() != mdp.n_transitions() || b.high.len() != mdp.n_transitions() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} interval bounds for {} transitions",
                    b.low.len().min(b.high.len()),
                    mdp.n_transitions()
                ),
            ));
        }
    }
    writeln!(w, "{{")?;
    writeln!(w, "  \"format\": \"{FORMAT_TAG}\",")?;
    writeln!(w, "  \"version\": {VERSION},")?;
    write!(w, "  \"states\": ")?;
    write_count_or_names(w, mdp.n_states(), mdp.state_names())?;
    write!(w, ",\n  \"actions\": ")?;
    write_count_or_names(w, mdp.n_actions(), mdp.action_names())?;
    writeln!(w, ",")?;
    if let Some(discount) = discount {
        if !discount.is_finite() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("discount {discount} cannot be written as a JSON number"),
            ));
        }
        write!(w, "  \"discount\": ")?;
        write_json(w, &discount)?;
        writeln!(w, ",")?;
    }
    if let Some(sense) = sense {
        writeln!(w, "  \"sense\": \"{}\",", sense.as_str())?;
    }
    let terminal: Vec<usize> = (0..mdp.n_states())
        .filter(|&s| mdp.is_terminal(StateId(s as u32)))
        .collect();
    if !terminal.is_empty() {
        write!(w, "  \"terminal\": ")?;
        write_json(w, &terminal)?;
        writeln!(w, ",")?;
    }
    if mdp.has_terminal_values() {
        let values: Vec<(usize, f64)> = terminal
            .iter()
            .map(|&s| (s, mdp.terminal_value(s)))
            .filter(|&(_, v)| v != 0.0)
            .collect();
        write!(w, "  \"terminal_values\": ")?;
        write_json(w, &values)?;
        writeln!(w, ",")?;
    }
    if let [only] = stages {
        write!(w, "  \"transitions\": ")?;
        write_transitions(w, only, "  ", bounds)?;
    } else {
        write!(w, "  \"stages\": [")?;
        for (t, stage) in stages.iter().enumerate() {
            w.write_all(if t == 0 { b"\n" } else { b",\n" })?;
            write!(w, "    {{\"transitions\": ")?;
            write_transitions(w, stage, "    ", None)?;
            w.write_all(b"}")?;
        }
        w.write_all(b"\n  ]")?;
    }
    w.write_all(b"\n}\n")?;
    Ok(())
}

/// The outcomes of `mdp` as a JSON array, one per line, indented below `indent`.
/// With `bounds` (aligned with the compiled outcomes), every outcome gets its two bounds.
fn write_transitions(
    w: &mut dyn Write,
    mdp: &TabularMdp,
    indent: &str,
    bounds: Option<&OutcomeBounds>,
) -> io::Result<()> {
    w.write_all(b"[")?;
    let mut first = true;
    let mut j = 0;
    for s in 0..mdp.n_states() {
        let state = StateId(s as u32);
        for k in mdp.pairs(state) {
            let action = mdp.pair_action(k);
            for outcome in mdp.outcomes(k) {
                w.write_all(if first { b"\n" } else { b",\n" })?;
                write!(w, "{indent}  [")?;
                first = false;
                write!(w, "{s}, {}, {}, ", action.0, outcome.next.0)?;
                write_json(w, &outcome.probability)?;
                w.write_all(b", ")?;
                write_json(w, &outcome.reward)?;
                if let Some(b) = bounds {
                    w.write_all(b", ")?;
                    write_json(w, &b.low[j])?;
                    w.write_all(b", ")?;
                    write_json(w, &b.high[j])?;
                }
                j += 1;
                w.write_all(b"]")?;
            }
        }
    }
    if first {
        w.write_all(b"]")
    } else {
        write!(w, "\n{indent}]")
    }
}

/// Names when there is one per id (so reading them back declares the same count), else
/// the count.
fn write_count_or_names(
    w: &mut dyn Write,
    count: usize,
    names: Option<&[String]>,
) -> io::Result<()> {
    match names {
        Some(names) if names.len() == count => write_json(w, &names),
        _ => write!(w, "{count}"),
    }
}

fn write_json<T: serde::Serialize + ?Sized>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_at(b"a\nb\nc", 0), 1);
        assert_eq!(line_at(b"a\nb\nc", 2), 2);
        assert_eq!(line_at(b"a\nb\nc", 4), 3);
        assert_eq!(line_at(b"a\n", 99), 2);
    }
}
