//! The CSV long form: one row per outcome, with an optional sidecar `NAME.meta.json`.
//!
//! ```text
//! state,action,next_state,probability,reward
//! 0,0,0,0.9,0.0
//! 0,0,1,0.1,0.0
//! 0,1,0,1.0,4.0
//! 1,0,1,1.0,1.0
//! ```
//!
//! * The header names the five columns; they may come in any order, each exactly once, and
//!   no other column is allowed (a misspelt column would otherwise be silently ignored).
//! * `state`, `action`, `next_state` are 0-based non-negative integers; `probability` and
//!   `reward` are decimal numbers. Spaces around a field are ignored.
//! * A UTF-8 byte-order mark, `\r\n` line ends, blank lines and lines starting with `#` are
//!   accepted. Quoting follows RFC 4180.
//! * Repeated `(state, action, next_state)` rows are merged by the builder: probabilities
//!   add, rewards are probability-weighted (see [`decide_core::MdpBuilder`]).
//! * An optional sixth column `stage` makes the model stage-dependent, for the finite
//!   horizon: the rows of stage `t` (0-based) describe the decision taken at stage `t`.
//!   Stages are numbered `0..T` without gaps; every stage has the same states (the largest
//!   id of any stage sets the count) and the sidecar's terminal states and names apply to
//!   every stage. Stage 0 is [`LoadedModel::mdp`], the others [`LoadedModel::later_stages`].
//! * Two optional columns `probability_low,probability_high` (both or neither) give interval
//!   bounds on each outcome's probability, for `--ambiguity interval`; see [`crate::bounds`].
//!   They go into [`LoadedModel::bounds`]; not with `stage`.
//!
//! The sidecar of `X/NAME.transitions.csv` (or `X/NAME.csv`) is `X/NAME.meta.json`, read
//! into [`Meta`]: the counts of states and actions (so that an id out of range is an error
//! rather than a silently larger model), discount, sense, terminal states and names. Its
//! other fields (`name`, `source`, `notes`, `rows`, ...) are ignored.
//!
//! Errors read `FILE:LINE: message`, LINE being the physical line of the row (the header is
//! line 1), except for errors that belong to no row (a state without actions).
//!
//! ```
//! use decide_io::{csv_model, ReadOptions};
//! use std::path::Path;
//! let text = "state,action,next_state,probability,reward\n0,0,1,1.0,2.5\n1,0,1,1.0,0.0\n";
//! let model = csv_model::read_from(Path::new("two.csv"), text.as_bytes(), None, &ReadOptions::default())?;
//! assert_eq!(model.mdp.n_states(), 2);
//! # Ok::<(), decide_io::ReadError>(())
//! ```

use crate::bounds::{self, BoundsRow};
use crate::json_model::{deserialize_discount, deserialize_sense, serde_error};
use crate::{Format, LoadedModel, MemoryGuard, ReadError, ReadErrorKind, ReadOptions, StageSize};
use csv::ByteRecord;
use decide_core::{MdpBuilder, ModelError, Sense, TabularMdp, ValidationOptions};
use serde::Deserialize;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The required columns, in the order the reference data writes them.
pub const COLUMNS: [&str; 5] = ["state", "action", "next_state", "probability", "reward"];

/// The optional column of a stage-dependent model (see the module documentation).
pub const STAGE_COLUMN: &str = "stage";

/// The most stages a file may have: far beyond any horizon solved in memory, and small enough
/// that a stray huge stage id is refused before a builder is made for every stage below it.
pub const MAX_STAGES: u64 = 1_000_000;

/// Probability-sum tolerance of the CSV format unless the caller sets one.
pub const DEFAULT_PROBABILITY_TOLERANCE: f64 = 1e-9;

/// The sidecar `NAME.meta.json` of a CSV model. Unknown fields are ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Meta {
    /// Number of states (ids `0..states`); rows naming a larger id are errors.
    pub states: Option<u64>,
    /// Number of actions (ids `0..actions`).
    pub actions: Option<u64>,
    /// Discount factor, in `[0, 1]`.
    #[serde(deserialize_with = "deserialize_discount")]
    pub discount: Option<f64>,
    /// `maximize`/`reward` or `minimize`/`cost`.
    #[serde(deserialize_with = "deserialize_sense")]
    pub sense: Option<Sense>,
    /// The state an episodic source's terminations were redirected to (the reference data's
    /// convention: a self-loop with reward 0). Informational: it is *not* marked terminal,
    /// since the rows already give it its actions.
    pub absorbing_state: Option<u64>,
    /// States marked terminal (no actions needed; value 0).
    pub terminal: Vec<u64>,
    /// Terminal states with a fixed value, as `[state, value]` pairs (marks them terminal).
    pub terminal_values: Vec<(u64, f64)>,
    /// Names of the states, in id order.
    pub state_names: Option<Vec<String>>,
    /// Names of the actions, in id order.
    pub action_names: Option<Vec<String>>,
}

/// The sidecar path of a CSV model: `X/NAME.meta.json` for `X/NAME.transitions.csv` and for
/// `X/NAME.csv`; `None` when the file name does not end in `.csv` (any case).
pub fn sidecar_path(csv_path: &Path) -> Option<PathBuf> {
    let name = csv_path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    // ASCII lowercasing keeps byte lengths, so the suffix length applies to `name` too.
    let suffix_len = if lower.ends_with(".transitions.csv") {
        ".transitions.csv".len()
    } else if lower.ends_with(".csv") {
        ".csv".len()
    } else {
        return None;
    };
    let stem = &name[..name.len() - suffix_len];
    Some(csv_path.with_file_name(format!("{stem}.meta.json")))
}

/// Parses a sidecar's text; errors name `meta_path` and the line serde_json reports.
pub fn parse_meta(meta_path: &Path, text: &str) -> Result<Meta, ReadError> {
    serde_json::from_str(text).map_err(|e| serde_error(meta_path, &e))
}

/// Reads a sidecar file.
pub fn read_meta(meta_path: &Path) -> Result<Meta, ReadError> {
    let text = std::fs::read_to_string(meta_path)
        .map_err(|e| ReadError::new(meta_path, None, ReadErrorKind::Io(e)))?;
    parse_meta(meta_path, &text)
}

/// Reads a CSV model and its sidecar `NAME.meta.json`, when there is one.
pub fn read(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    let meta = match sidecar_path(path) {
        Some(meta_path) => match read_meta(&meta_path) {
            Ok(meta) => Some(meta),
            Err(ReadError {
                kind: ReadErrorKind::Io(e),
                ..
            }) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        },
        None => None,
    };
    let file = File::open(path).map_err(|e| ReadError::new(path, None, ReadErrorKind::Io(e)))?;
    read_from(path, file, meta, options)
}

/// Reads CSV rows from `input`, with what a sidecar said in `meta`.
///
/// `path_for_messages` is only used in error messages (and to name the sidecar in errors
/// about `meta`).
pub fn read_from(
    path_for_messages: &Path,
    input: impl Read,
    meta: Option<Meta>,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    let path = path_for_messages;
    let mut meta = meta.unwrap_or_default();
    let meta_path = sidecar_path(path).unwrap_or_else(|| path.to_path_buf());
    let meta_error =
        |error: ModelError| ReadError::new(&meta_path, None, ReadErrorKind::Model(error));

    let mut builder = MdpBuilder::new();
    let tolerance = options
        .probability_tolerance
        .unwrap_or(DEFAULT_PROBABILITY_TOLERANCE);
    builder.options(ValidationOptions::with_tolerance(tolerance));
    // Declared before any row, so that ids are checked against the counts as they come and
    // a count too large for u32 ids fails before anything is allocated for it.
    if let Some(n_states) = meta.states {
        builder.declare_states(n_states).map_err(meta_error)?;
    }
    if let Some(n_actions) = meta.actions {
        builder.declare_actions(n_actions).map_err(meta_error)?;
    }
    for &state in &meta.terminal {
        builder.mark_terminal(state).map_err(meta_error)?;
    }
    if let Some((k, state, first, second)) = crate::repeated_terminal_value(&meta.terminal_values) {
        return Err(ReadError::new(
            &meta_path,
            None,
            ReadErrorKind::Format(format!(
                "terminal_values[{k}]: state s{state} has a terminal value twice ({first} and {second})"
            )),
        ));
    }
    for &(state, value) in &meta.terminal_values {
        builder
            .mark_terminal_with_value(state, value)
            .map_err(meta_error)?;
    }
    for (field, prefix, names) in [
        ("state_names", "s", &meta.state_names),
        ("action_names", "a", &meta.action_names),
    ] {
        if let Some((first, second, name)) = names.as_deref().and_then(crate::repeated_name) {
            return Err(ReadError::new(
                &meta_path,
                None,
                ReadErrorKind::Format(format!(
                    "{field}: {} names both {prefix}{first} and {prefix}{second}; names must be unique",
                    crate::quoted_name(name)
                )),
            ));
        }
    }
    if let Some(names) = meta.state_names.take() {
        builder.state_names(names);
    }
    if let Some(names) = meta.action_names.take() {
        builder.action_names(names);
    }
    // A declared size that cannot fit is refused before any row is read.
    let memory = MemoryGuard::new();
    memory.check(&meta_path, None, &builder, 0)?;

    let (mut stages, bound_rows) = add_rows(path, input, builder, &memory, tolerance)?;
    let later_stages = if stages.len() > 1 {
        build_later_stages(path, &meta_path, &mut stages, &memory)?
    } else {
        Vec::new()
    };
    let builder = stages.swap_remove(0);

    memory.check(path, None, &builder, 0)?;
    let (mdp, summary) = builder
        .build()
        .map_err(|e| in_stage(ReadError::from_build(path, e), 0, !later_stages.is_empty()))?;
    check_names(&meta_path, "state_names", mdp.state_names(), mdp.n_states())?;
    check_names(
        &meta_path,
        "action_names",
        mdp.action_names(),
        mdp.n_actions(),
    )?;
    let bounds = match bound_rows {
        Some(rows) => Some(bounds::align(path, &mdp, &rows, tolerance)?),
        None => None,
    };
    Ok(LoadedModel {
        mdp,
        summary,
        discount: meta.discount,
        sense: meta.sense,
        format: Format::Csv,
        later_stages,
        bounds,
    })
}

/// Builds stages 1.. of a stage-dependent file, leaving stage 0's builder in place. Every
/// stage is given the same counts of states and actions first: the largest of any stage.
fn build_later_stages(
    path: &Path,
    meta_path: &Path,
    stages: &mut [MdpBuilder],
    memory: &MemoryGuard,
) -> Result<Vec<TabularMdp>, ReadError> {
    if let Some(empty) = stages.iter().position(|b| b.n_rows() == 0) {
        return Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(format!(
                "stage {empty} has no rows: a file's stages run from 0 to its last ({}) without gaps",
                stages.len() - 1
            )),
        ));
    }
    let n_states = stages.iter().map(MdpBuilder::n_states_so_far).max();
    let n_actions = stages.iter().map(MdpBuilder::n_actions_so_far).max();
    let declare = |builder: &mut MdpBuilder| -> Result<(), ModelError> {
        if let Some(n) = n_states {
            builder.declare_states(n)?;
        }
        if let Some(n) = n_actions {
            builder.declare_actions(n)?;
        }
        Ok(())
    };
    for stage in stages.iter_mut() {
        declare(stage).map_err(|e| ReadError::new(meta_path, None, ReadErrorKind::Model(e)))?;
    }
    // Every stage is now a model of the same counts: refused at once if they cannot all fit.
    if let Some(stage) = stages.last() {
        memory.check_stages(path, None, StageSize::of(stage), stages.len() as u64)?;
    }
    let mut later = Vec::with_capacity(stages.len() - 1);
    for (t, stage) in stages.iter_mut().enumerate().skip(1) {
        let (mdp, _) = std::mem::take(stage)
            .build()
            .map_err(|e| in_stage(ReadError::from_build(path, e), t, true))?;
        later.push(mdp);
    }
    Ok(later)
}

/// Says which stage an error of a stage-dependent model belongs to.
fn in_stage(error: ReadError, stage: usize, staged: bool) -> ReadError {
    match error.kind {
        ReadErrorKind::Model(model) if staged => ReadError::new(
            &error.path,
            error.line,
            ReadErrorKind::Format(format!("stage {stage}: {model}")),
        ),
        _ => error,
    }
}

/// Names, when given, come one per id.
fn check_names(
    path: &Path,
    field: &str,
    names: Option<&[String]>,
    count: usize,
) -> Result<(), ReadError> {
    match names {
        Some(names) if names.len() != count => Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(format!(
                "{field} has {} names but the model has {count}",
                names.len()
            )),
        )),
        _ => Ok(()),
    }
}

/// Where each required column is in a row.
struct ColumnIndex {
    state: usize,
    action: usize,
    next_state: usize,
    probability: usize,
    reward: usize,
    /// The optional `stage` column.
    stage: Option<usize>,
    /// The optional `probability_low` and `probability_high` columns.
    bounds: Option<(usize, usize)>,
    n_fields: usize,
}

impl ColumnIndex {
    fn from_header(header: &ByteRecord) -> Result<ColumnIndex, String> {
        let mut found: [Option<usize>; 5] = [None; 5];
        let mut stage = None;
        let mut interval: [Option<usize>; 2] = [None; 2];
        let mut unknown = Vec::new();
        for (index, field) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(field.trim_ascii()).to_ascii_lowercase();
            if let Some(b) = bounds::COLUMNS.iter().position(|&c| c == name) {
                if interval[b].replace(index).is_some() {
                    return Err(format!(
                        "column {name:?} appears more than once in the header"
                    ));
                }
                continue;
            }
            if name == STAGE_COLUMN {
                if stage.replace(index).is_some() {
                    return Err(format!(
                        "column {STAGE_COLUMN:?} appears more than once in the header"
                    ));
                }
                continue;
            }
            match COLUMNS.iter().position(|&c| c == name) {
                Some(column) if found[column].is_some() => {
                    return Err(format!(
                        "column {:?} appears more than once in the header",
                        COLUMNS[column]
                    ));
                }
                Some(column) => found[column] = Some(index),
                None => unknown.push(name),
            }
        }
        if found.iter().all(Option::is_none) {
            return Err(format!(
                "expected the header {:?}, found {:?}",
                COLUMNS.join(","),
                shorten(&header.iter().collect::<Vec<_>>().join(&b","[..]))
            ));
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unknown column(s) {} in the header (expected {}, and optionally {STAGE_COLUMN} or probability_low,probability_high)",
                unknown
                    .iter()
                    .map(|name| format!("{name:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                COLUMNS.join(",")
            ));
        }
        let bounds = match interval {
            [Some(low), Some(high)] => Some((low, high)),
            [None, None] => None,
            _ => {
                return Err(
                    "interval bounds need both columns probability_low and probability_high".into(),
                );
            }
        };
        if bounds.is_some() && stage.is_some() {
            return Err(
                "interval bounds (probability_low, probability_high) are not supported in a stage-dependent file"
                    .into(),
            );
        }
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(&found)
            .filter(|(_, index)| index.is_none())
            .map(|(&name, _)| name)
            .collect();
        match found {
            [
                Some(state),
                Some(action),
                Some(next_state),
                Some(probability),
                Some(reward),
            ] => Ok(ColumnIndex {
                state,
                action,
                next_state,
                probability,
                reward,
                stage,
                bounds,
                n_fields: header.len(),
            }),
            _ => Err(format!(
                "missing column(s) {} in the header (expected {})",
                missing.join(", "),
                COLUMNS.join(",")
            )),
        }
    }
}

/// Streams the rows of `input` into `template` (one reused record, nothing allocated per
/// row), or, when the header has a `stage` column, into one copy of `template` per stage,
/// made when the stage's first row comes (stage numbers with no rows below the largest are
/// an error).
/// Returns the builders by stage (one for a stationary file), and the rows' interval bounds
/// when the header has their columns.
fn add_rows(
    path: &Path,
    input: impl Read,
    template: MdpBuilder,
    memory: &MemoryGuard,
    tolerance: f64,
) -> Result<(Vec<MdpBuilder>, Option<Vec<BoundsRow>>), ReadError> {
    let io_error = |e: io::Error| ReadError::new(path, None, ReadErrorKind::Io(e));
    let tail = Rc::new(Cell::new((0, 0)));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked here, to say which columns were expected.
        .flexible(true)
        .comment(Some(b'#'))
        // Records end at `\n` only (a `\r` before it is trimmed like other spaces), and one
        // `\n` is appended to the input: every record then ends by consuming exactly one `\n`,
        // which is what makes `physical_line` exact. (The reader's own start position counts
        // neither the skipped lines before a record nor a CRLF's `\n`.)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(
            InputTail {
                inner: crate::skip_byte_order_mark(input).map_err(io_error)?,
                seen: Rc::clone(&tail),
            }
            .chain(&b"\n"[..]),
        );
    let mut record = ByteRecord::new();
    // A record that ran to the end of the input inside a quote never closed (the rest of
    // the file is one field): said as such, rather than as a row of the wrong width.
    let unclosed_quote = |line: u64| {
        ReadError::new(
            path,
            Some(line),
            ReadErrorKind::Format(
                "a quoted field is never closed: it runs to the end of the file".into(),
            ),
        )
    };

    let columns = loop {
        if !next_record(path, &mut reader, &mut record)? {
            return Err(ReadError::new(
                path,
                Some(1),
                ReadErrorKind::Format(format!(
                    "empty file: expected the header {}",
                    COLUMNS.join(",")
                )),
            ));
        }
        if !is_blank(&record) {
            let unclosed = in_unclosed_quote(&reader, &record, tail.get());
            let line = physical_line(&reader, &record, unclosed);
            if unclosed {
                return Err(unclosed_quote(line));
            }
            break ColumnIndex::from_header(&record).map_err(|message| {
                ReadError::new(path, Some(line), ReadErrorKind::Format(message))
            })?;
        }
    };

    // Builders by stage: stage 0's, and one for each other stage that has a row, never one
    // for every stage number below a large one (two rows, at stages 0 and 999 999, would
    // otherwise make a million copies of the sidecar's terminal marks and names).
    let mut stages = BTreeMap::from([(0, template)]);
    let template = match columns.stage {
        Some(_) => stages.get(&0).cloned(),
        None => None,
    };
    let stage_size = template.as_ref().map(StageSize::of);
    let mut bound_rows = columns.bounds.map(|_| Vec::new());
    if bound_rows.is_some() {
        // Nature may give a zero-probability outcome mass: keep it.
        stages.entry(0).or_default().options(ValidationOptions {
            probability_tolerance: tolerance,
            keep_zero_probability: true,
        });
    }
    while next_record(path, &mut reader, &mut record)? {
        if is_blank(&record) {
            continue;
        }
        let unclosed = in_unclosed_quote(&reader, &record, tail.get());
        let line = physical_line(&reader, &record, unclosed);
        if unclosed {
            return Err(unclosed_quote(line));
        }
        let at_line = |kind: ReadErrorKind| ReadError::new(path, Some(line), kind);
        if record.len() != columns.n_fields {
            return Err(at_line(ReadErrorKind::Format(format!(
                "expected {} fields as in the header, found {}",
                columns.n_fields,
                record.len()
            ))));
        }
        let state = parse_id(&record[columns.state], "state").map_err(at_line)?;
        let action = parse_id(&record[columns.action], "action").map_err(at_line)?;
        let next_state = parse_id(&record[columns.next_state], "next_state").map_err(at_line)?;
        let probability =
            parse_number(&record[columns.probability], "probability").map_err(at_line)?;
        let reward = parse_number(&record[columns.reward], "reward").map_err(at_line)?;
        if let (Some((low, high)), Some(rows)) = (columns.bounds, bound_rows.as_mut()) {
            rows.push(BoundsRow {
                key: (state, action, next_state),
                low: parse_number(&record[low], bounds::COLUMNS[0]).map_err(at_line)?,
                high: parse_number(&record[high], bounds::COLUMNS[1]).map_err(at_line)?,
                line,
                place: None,
            });
        }
        let builder = match (columns.stage, &template, stage_size) {
            (Some(column), Some(template), Some(stage_size)) => {
                let stage = parse_id(&record[column], STAGE_COLUMN).map_err(at_line)?;
                if stage >= MAX_STAGES {
                    return Err(at_line(ReadErrorKind::Format(format!(
                        "stage {stage} is beyond the largest stage allowed ({})",
                        MAX_STAGES - 1
                    ))));
                }
                let stage = stage as usize;
                if !stages.contains_key(&stage) {
                    // Each stage becomes a model with at least the template's states.
                    let count = stages.len() as u64 + 1;
                    memory.check_stages(path, Some(line), stage_size, count)?;
                }
                stages.entry(stage).or_insert_with(|| template.clone())
            }
            _ => stages.entry(0).or_default(),
        };
        builder
            .add_at(state, action, next_state, probability, reward, line)
            .map_err(|e| at_line(ReadErrorKind::Model(e)))?;
        memory.check_growth(path, Some(line), builder)?;
    }
    let last = stages.keys().next_back().copied().unwrap_or(0);
    if let Some(missing) = (0..=last)
        .zip(stages.keys())
        .find_map(|(t, &k)| (t != k).then_some(t))
    {
        return Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(format!(
                "stage {missing} has no rows: a file's stages run from 0 to its last ({}) without gaps",
                last
            )),
        ));
    }
    Ok((stages.into_values().collect(), bound_rows))
}

fn next_record<R: Read>(
    path: &Path,
    reader: &mut csv::Reader<R>,
    record: &mut ByteRecord,
) -> Result<bool, ReadError> {
    reader.read_byte_record(record).map_err(|e| {
        let line = e.position().map(csv::Position::line);
        let message = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(io) => ReadError::new(path, line, ReadErrorKind::Io(io)),
            _ => ReadError::new(path, line, ReadErrorKind::Format(message)),
        }
    })
}

/// The 1-based physical line where `record`, just read, starts: the reader has counted
/// every `\n` up to and including the record's terminator; a quoted field may hold more.
/// A record in an unclosed quote consumed no terminator (see [`in_unclosed_quote`]).
fn physical_line<R: Read>(reader: &csv::Reader<R>, record: &ByteRecord, unclosed: bool) -> u64 {
    let lines_inside = record.as_slice().iter().filter(|&&b| b == b'\n').count() as u64;
    let terminator = u64::from(!unclosed);
    reader
        .position()
        .line()
        .saturating_sub(terminator + lines_inside)
        .max(1)
}

/// The input as the CSV reader gets it, counting its bytes and keeping the last one in
/// `seen`, for [`in_unclosed_quote`].
struct InputTail<R> {
    inner: R,
    seen: Rc<Cell<(u64, u8)>>,
}

impl<R: Read> Read for InputTail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(&last) = buf.get(..n).and_then(<[u8]>::last) {
            let (count, _) = self.seen.get();
            self.seen.set((count + n as u64, last));
        }
        Ok(n)
    }
}

/// Whether `record`, just read, ran to the end of the input inside a quote never closed,
/// given the input's length and last byte (`tail`). The `\n` appended to the input then
/// ended up inside the field (its last byte) instead of ending the record. A field closed
/// right at the end of a file without a final newline leaves `"` as the last byte instead.
fn in_unclosed_quote<R: Read>(
    reader: &csv::Reader<R>,
    record: &ByteRecord,
    tail: (u64, u8),
) -> bool {
    let (input_len, last_byte) = tail;
    reader.position().byte() == input_len + 1
        && record.as_slice().last() == Some(&b'\n')
        && last_byte != b'"'
}

/// A line of spaces only reads as one empty-looking field; it carries no row.
fn is_blank(record: &ByteRecord) -> bool {
    record.len() == 1 && record[0].trim_ascii().is_empty()
}

/// A non-negative integer in plain decimal digits: no sign, no fraction, no hex, no overflow.
/// Spaces around it are ignored. The error is what was expected.
pub(crate) fn parse_decimal_id(field: &[u8]) -> Result<u64, &'static str> {
    let digits = field.trim_ascii();
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err("a non-negative integer");
    }
    digits.iter().try_fold(0u64, |value, &digit| {
        value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            .ok_or("a non-negative integer below 2^64")
    })
}

fn parse_id(field: &[u8], column: &str) -> Result<u64, ReadErrorKind> {
    parse_decimal_id(field).map_err(|expected| ReadErrorKind::Syntax {
        column: column.to_string(),
        found: shorten(field),
        expected,
    })
}

/// A decimal number as Rust reads it. `nan`, `inf` and `1e999` read as non-finite values on
/// purpose: the builder then rejects them naming the state, action and field.
fn parse_number(field: &[u8], column: &str) -> Result<f64, ReadErrorKind> {
    std::str::from_utf8(field.trim_ascii())
        .ok()
        .and_then(|text| text.parse::<f64>().ok())
        .ok_or_else(|| ReadErrorKind::Syntax {
            column: column.to_string(),
            found: shorten(field),
            expected: "a number",
        })
}

/// The text of a field for a message, cut to a readable length.
fn shorten(field: &[u8]) -> String {
    const MAX_CHARS: usize = 40;
    let text = String::from_utf8_lossy(field);
    if text.chars().count() <= MAX_CHARS {
        text.into_owned()
    } else {
        let mut short: String = text.chars().take(MAX_CHARS).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_of_both_name_forms() {
        assert_eq!(
            sidecar_path(Path::new("d/forest.transitions.csv")),
            Some(PathBuf::from("d/forest.meta.json"))
        );
        assert_eq!(
            sidecar_path(Path::new("forest.CSV")),
            Some(PathBuf::from("forest.meta.json"))
        );
        assert_eq!(sidecar_path(Path::new("forest.json")), None);
    }

    #[test]
    fn ids_are_plain_decimal() {
        assert_eq!(parse_id(b" 42 ", "state").unwrap(), 42);
        assert_eq!(
            parse_id(b"18446744073709551615", "state").unwrap(),
            u64::MAX
        );
        for bad in ["", "-1", "+1", "1.0", "0x10", "1e3", "18446744073709551616"] {
            assert!(parse_id(bad.as_bytes(), "state").is_err(), "{bad}");
        }
    }

    #[test]
    fn long_fields_are_shortened() {
        let long = "9".repeat(100);
        let shown = shorten(long.as_bytes());
        assert_eq!(shown.chars().count(), 41);
        assert!(shown.ends_with('…'));
    }
}
