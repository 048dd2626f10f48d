//! Readers and writers for decide's model formats and results.
//!
//! | format | extension | read | write |
//! |---|---|---|---|
//! | CSV long form (+ sidecar `NAME.meta.json`) | `.csv` | [`csv_model`] | — |
//! | JSON model | `.json` | [`json_model`] | [`json_model::write`] |
//! | Cassandra MDP / POMDP (as its underlying MDP) | `.mdp`, `.pomdp` (any case) | [`cassandra`] | — |
//! | decide's compact binary model | `.decide` | [`binary`] | [`binary::write`] |
//! | interval bounds (CSV columns / 7-element JSON transitions) | — | [`bounds`] | — |
//! | solution JSON, policy CSV | — | — | [`solution`] |
//!
//! Every reader streams or reads once, never panics on input, and reports errors as
//! `FILE:LINE: state sN, action aM: what is wrong` through [`ReadError`].
//! Every writer goes through [`atomic::write_atomically`]: a temporary file in the target's
//! folder, renamed into place only when complete.

pub mod atomic;
pub mod binary;
pub mod bounds;
pub mod cassandra;
pub mod csv_model;
pub mod error;
pub mod json_model;
pub mod policy;
pub mod solution;

pub use error::{ReadError, ReadErrorKind, WriteError};

use decide_core::{BuildSummary, MdpBuilder, Sense, TabularMdp};
use std::io::{self, Read};
use std::path::Path;

/// The model path that [`read_model`] takes to mean standard input.
pub const STDIN_PATH: &str = "-";

/// How messages name standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// The file formats decide reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `state,action,next_state,probability,reward` rows.
    Csv,
    /// decide's JSON model document.
    Json,
    /// Cassandra's `.MDP`/`.POMDP` text format.
    Cassandra,
    /// decide's compact binary model (`.decide`, see [`binary`]).
    Binary,
}

impl Format {
    /// The format a path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "mdp" | "pomdp" => Some(Format::Cassandra),
            "decide" => Some(Format::Binary),
            _ => None,
        }
    }
}

/// Options every reader honours.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadOptions {
    /// Probability-sum tolerance; `None` keeps the format's own convention
    /// (1e-9 for CSV and JSON, 1e-5 for Cassandra).
    pub probability_tolerance: Option<f64>,
    /// Hold the probabilities as `f32` (4 bytes less per transition; `.decide` files only,
    /// others refuse it). The model is then an approximation, for
    /// `decide_solve::mixed_precision`, which certifies against the file's exact values.
    pub f32_probabilities: bool,
    /// Map the big sections of a `.decide` file instead of copying them (no copy, no fresh
    /// memory: see `binary`). Then the model is only as stable as the file: a caller that
    /// sets it must check the file was not written in place before trusting a result (as
    /// `decide solve` does). Off by default.
    pub map_file: bool,
}

/// A model as read from a file: the compiled MDP plus what the file said about solving it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadedModel {
    /// The validated model.
    pub mdp: TabularMdp,
    /// What the builder merged and checked.
    pub summary: BuildSummary,
    /// The discount the file gives, if any.
    pub discount: Option<f64>,
    /// The sense the file gives, if any.
    pub sense: Option<Sense>,
    /// The format it was read from.
    pub format: Format,
    /// A stage-dependent model's stages 1, 2, … (stage 0 is `mdp`), all with the states and
    /// actions of `mdp`; empty for a stationary model. Only the finite horizon solves them.
    pub later_stages: Vec<TabularMdp>,
    /// Interval bounds on the outcomes' probabilities, when the file gives them (CSV columns
    /// `probability_low,probability_high`, JSON transitions of 7 elements): see [`bounds`].
    pub bounds: Option<bounds::OutcomeBounds>,
}

impl LoadedModel {
    /// Whether the model has one model per stage (see [`later_stages`](Self::later_stages)).
    pub fn is_stage_dependent(&self) -> bool {
        !self.later_stages.is_empty()
    }

    /// The models of every stage, stage 0 first (one for a stationary model).
    pub fn stages(&self) -> Vec<&TabularMdp> {
        std::iter::once(&self.mdp)
            .chain(&self.later_stages)
            .collect()
    }
}

/// Reads a model, choosing the reader by extension (`.csv`, `.json`, `.mdp`, `.pomdp`);
/// `-` reads standard input, whose format is told by its first bytes (see [`read_sniffed`]),
/// named `<stdin>` in messages. (A file named `-` is `./-`.)
pub fn read_model(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    if options.f32_probabilities {
        check_f32_source(path)?;
    }
    if path.as_os_str() == STDIN_PATH {
        return read_sniffed(Path::new(STDIN_NAME), io::stdin().lock(), options);
    }
    match Format::from_path(path) {
        Some(Format::Csv) => csv_model::read(path, options),
        Some(Format::Json) => json_model::read(path, options),
        Some(Format::Cassandra) => cassandra::read(path, options),
        Some(Format::Binary) => binary::read(path, options),
        // A folder is not a model whatever its name: say so rather than blame its extension.
        None if path.is_dir() => Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Io(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory, not a model file",
            )),
        )),
        None => Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Usage(
                "unknown model format: expected extension .csv, .json, .mdp, .pomdp or .decide"
                    .into(),
            ),
        )),
    }
}

/// A `.decide` model read with `options.f32_probabilities` and the exact outcomes of the same
/// open file, which certify its solve (`decide_solve::mixed_precision`).
pub fn read_model_with_exact_outcomes(
    path: &Path,
    options: &ReadOptions,
) -> Result<(LoadedModel, binary::ExactOutcomes), ReadError> {
    check_f32_source(path)?;
    binary::read_with_exact_outcomes(path, options)
}

/// `--probabilities f32` needs a `.decide` file: the certificate reads its exact
/// probabilities again.
fn check_f32_source(path: &Path) -> Result<(), ReadError> {
    let (named, message) = if path.as_os_str() == STDIN_PATH {
        (
            Path::new(STDIN_NAME),
            "--probabilities f32 reads the exact probabilities again for the certificate, which standard input cannot give: name the .decide file",
        )
    } else if Format::from_path(path) != Some(Format::Binary) {
        (
            path,
            "--probabilities f32 needs a .decide model file (make one with `decide convert MODEL MODEL.decide`)",
        )
    } else {
        return Ok(());
    };
    Err(ReadError::new(
        named,
        None,
        ReadErrorKind::Usage(message.into()),
    ))
}

/// How messages and outputs name the model `path`: `<stdin>` for `-` (standard input),
/// else the path as given.
pub fn display_name(path: &Path) -> std::borrow::Cow<'_, str> {
    if path.as_os_str() == STDIN_PATH {
        std::borrow::Cow::Borrowed(STDIN_NAME)
    } else {
        path.to_string_lossy()
    }
}

/// Reads a model from `input`, telling its format by its first significant line (after a
/// byte-order mark, blank lines and `#` comment lines): `{` (or `[`) starts JSON, a line
/// with a comma is a CSV header, anything else is Cassandra text. The CSV form gets no
/// sidecar, so its discount comes from the command line. `path_for_messages` names the
/// input in errors.
pub fn read_sniffed(
    path_for_messages: &Path,
    mut input: impl Read,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    let path = path_for_messages;
    let (format, start) =
        sniff_format(&mut input).map_err(|e| ReadError::new(path, None, e.into()))?;
    let Some(format) = format else {
        return Err(ReadError::new(
            path,
            Some(1),
            ReadErrorKind::Format(
                "no model: the input is empty (or only blank and comment lines)".into(),
            ),
        ));
    };
    // The bytes read to decide are put back in front of the rest.
    let input = io::Cursor::new(start).chain(input);
    match format {
        Format::Csv => csv_model::read_from(path, input, None, options),
        Format::Json => json_model::read_from(path, input, options),
        Format::Cassandra => cassandra::read_from(path, input, options),
        Format::Binary => binary::read_from(path, input, options),
    }
}

/// Most bytes read to tell the format: past it (a very long comment block), Cassandra is
/// assumed and its reader reports what it finds.
const SNIFF_LIMIT: usize = 1 << 20;

/// Reads the start of `input` until its format is known: `None` for an input of blanks and
/// comments only. Returns the bytes it read, which belong in front of the rest.
pub fn sniff_format(input: &mut impl Read) -> io::Result<(Option<Format>, Vec<u8>)> {
    let mut start = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = match input.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        start.extend_from_slice(&chunk[..n]);
        let at_end = n == 0;
        if let Some(format) = classify_start(&start, at_end) {
            return Ok((format, start));
        }
        if start.len() >= SNIFF_LIMIT {
            return Ok((Some(Format::Cassandra), start));
        }
    }
}

/// The format `bytes` (the start of an input) show; `None` when more bytes are needed to
/// tell, `Some(None)` when the whole input (`at_end`) holds no model line.
fn classify_start(bytes: &[u8], at_end: bool) -> Option<Option<Format>> {
    if bytes.starts_with(&binary::MAGIC) {
        return Some(Some(Format::Binary));
    }
    let body = bytes.strip_prefix(&BYTE_ORDER_MARK[..]).unwrap_or(bytes);
    let undecided = if at_end { Some(None) } else { None };
    let mut i = 0;
    loop {
        while body.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let rest = body.get(i..).unwrap_or(&[]);
        let line_end = rest.iter().position(|&b| b == b'\n');
        match rest.first() {
            None => return undecided,
            Some(b'{' | b'[') => return Some(Some(Format::Json)),
            Some(b'#') => match line_end {
                Some(end) => i += end + 1,
                None => return undecided,
            },
            Some(_) => {
                let line = match line_end {
                    Some(end) => &rest[..end],
                    None if at_end => rest,
                    None => return None,
                };
                let format = if line.contains(&b',') {
                    Format::Csv
                } else {
                    Format::Cassandra
                };
                return Some(Some(format));
            }
        }
    }
}

/// The UTF-8 byte-order mark that spreadsheet and Windows editors put first.
pub(crate) const BYTE_ORDER_MARK: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Drops a leading UTF-8 byte-order mark, keeping the rest.
pub(crate) fn skip_byte_order_mark<R: Read>(mut input: R) -> io::Result<impl Read> {
    let mut start = Vec::with_capacity(BYTE_ORDER_MARK.len());
    input
        .by_ref()
        .take(BYTE_ORDER_MARK.len() as u64)
        .read_to_end(&mut start)?;
    if start == BYTE_ORDER_MARK {
        start.clear();
    }
    Ok(io::Cursor::new(start).chain(input))
}

/// Memory this process may still allocate, in bytes, best effort: `MemAvailable` of
/// `/proc/meminfo`, lowered to the room left under a cgroup v2 limit (a container's) when
/// there is one. `None` where neither can be read (not Linux): then no model is refused for
/// its size, and an allocation that cannot be met aborts as it would anyway.
pub fn available_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo.as_deref().and_then(|text| {
        text.lines()
            .find_map(|line| line.strip_prefix("MemAvailable:"))
            .and_then(|rest| rest.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse::<u64>().ok())
            .map(|kib| kib.saturating_mul(1024))
    });
    let read_number = |file: &str| {
        std::fs::read_to_string(file)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
    };
    // "max" (no limit) does not parse, which is what we want.
    let cgroup_room = read_number("/sys/fs/cgroup/memory.max")
        .map(|max| max.saturating_sub(read_number("/sys/fs/cgroup/memory.current").unwrap_or(0)));
    match (available, cgroup_room) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// Refuses a model that cannot fit in memory, comparing [`MdpBuilder::required_bytes`]
/// with the memory available (read at the first check that needs it), before the
/// allocation that would fail.
#[derive(Debug, Default)]
pub(crate) struct MemoryGuard {
    available: std::cell::OnceCell<Option<u64>>,
}

/// What one stage of a stage-dependent model needs at least, for
/// [`MemoryGuard::check_stages`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct StageSize {
    /// [`MdpBuilder::compiled_bytes`] of the stage.
    pub(crate) bytes: u64,
    /// Its number of states, for the message.
    pub(crate) n_states: u64,
}

impl StageSize {
    /// The size of a stage built from `builder` (which walks its names: once per builder,
    /// not once per stage).
    pub(crate) fn of(builder: &MdpBuilder) -> Self {
        StageSize {
            bytes: builder.compiled_bytes(),
            n_states: builder.n_states_so_far(),
        }
    }
}

/// Models needing less than this are never refused, so small ones cost no look-up.
const ALWAYS_FITS_BYTES: u64 = 64 << 20;

impl MemoryGuard {
    /// A guard for the memory available from the first check on.
    pub(crate) fn new() -> Self {
        MemoryGuard::default()
    }

    /// Fails when the model, once `more_rows` more rows are added, cannot fit.
    pub(crate) fn check(
        &self,
        path: &Path,
        line: Option<u64>,
        builder: &MdpBuilder,
        more_rows: u64,
    ) -> Result<(), ReadError> {
        self.check_bytes(path, line, builder.required_bytes(more_rows), || {
            match builder.n_rows() as u64 + more_rows {
                0 => format!("{} states", builder.n_states_so_far()),
                1 => format!("{} states and 1 row", builder.n_states_so_far()),
                rows => format!("{} states and {rows} rows", builder.n_states_so_far()),
            }
        })
    }

    /// Fails when a stage-dependent model of `stages` stages cannot fit, each stage compiled
    /// to at least what `stage` compiles to ([`MdpBuilder::compiled_bytes`] of a builder with
    /// the counts, terminal marks and names every stage gets, computed once by the caller):
    /// checked before a builder is made for each stage, since a few bytes per stage could
    /// otherwise ask for a copy of a large model per stage.
    pub(crate) fn check_stages(
        &self,
        path: &Path,
        line: Option<u64>,
        stage: StageSize,
        stages: u64,
    ) -> Result<(), ReadError> {
        let needed = stage.bytes.saturating_mul(stages);
        self.check_bytes(path, line, needed, || {
            format!("{stages} stages of {} states", stage.n_states)
        })
    }

    /// Fails when `needed` bytes cannot fit; `counts` says what needs them.
    fn check_bytes(
        &self,
        path: &Path,
        line: Option<u64>,
        needed: u64,
        counts: impl FnOnce() -> String,
    ) -> Result<(), ReadError> {
        if needed <= ALWAYS_FITS_BYTES {
            return Ok(());
        }
        let available = *self.available.get_or_init(available_memory);
        memory_verdict(needed, available, counts).map_err(|shortfall| {
            ReadError::new(
                path,
                line,
                ReadErrorKind::Format(format!("the model {shortfall}")),
            )
        })
    }

    /// [`check`](Self::check) for rows streaming in, made only when the row count reaches
    /// a power of two (where the builder's storage doubles): nothing is paid per row.
    pub(crate) fn check_growth(
        &self,
        path: &Path,
        line: Option<u64>,
        builder: &MdpBuilder,
    ) -> Result<(), ReadError> {
        let rows = builder.n_rows() as u64;
        if rows >= 1 << 16 && rows.is_power_of_two() {
            self.check(path, line, builder, rows)
        } else {
            Ok(())
        }
    }
}

/// Checks that `needed` more bytes fit in the memory available ([`available_memory`]), for
/// what is allocated besides a model (a finite-horizon solution's per-stage values, a
/// generated model). `Err` completes a sentence: "needs at least 22.4 GiB of memory
/// (COUNTS), more than the 21.9 GiB available", `counts` saying what needs it. Small
/// amounts are never refused; where the memory available cannot be read, nothing is.
pub fn check_memory(needed: u64, counts: impl FnOnce() -> String) -> Result<(), String> {
    if needed <= ALWAYS_FITS_BYTES {
        return Ok(());
    }
    memory_verdict(needed, available_memory(), counts)
}

fn memory_verdict(
    needed: u64,
    available: Option<u64>,
    counts: impl FnOnce() -> String,
) -> Result<(), String> {
    match available {
        Some(available) if needed > available => Err(format!(
            "needs at least {} of memory ({}), more than the {} available",
            gibibytes(needed),
            counts(),
            gibibytes(available)
        )),
        _ => Ok(()),
    }
}

/// The first name that `names` gives twice, as `(first index, second index, name)`: names
/// are how people find a state or action again, so two of them must not share one.
pub(crate) fn repeated_name(names: &[String]) -> Option<(usize, usize, &str)> {
    let mut seen = std::collections::HashMap::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if let Some(&first) = seen.get(name.as_str()) {
            return Some((first, i, name.as_str()));
        }
        seen.insert(name.as_str(), i);
    }
    None
}

/// A name for a message: shortened to 40 characters, quoted, control characters escaped.
pub(crate) fn quoted_name(name: &str) -> String {
    const MAX_CHARS: usize = 40;
    if name.chars().count() <= MAX_CHARS {
        format!("{name:?}")
    } else {
        let short: String = name.chars().take(MAX_CHARS).collect();
        format!("{short:?}…")
    }
}

/// The first state that `terminal_values` lists twice, as `(index of the second entry,
/// state, first value, second value)`.
pub(crate) fn repeated_terminal_value(values: &[(u64, f64)]) -> Option<(usize, u64, f64, f64)> {
    let mut seen = std::collections::HashMap::with_capacity(values.len());
    for (k, &(state, value)) in values.iter().enumerate() {
        if let Some(&first) = seen.get(&state) {
            return Some((k, state, first, value));
        }
        seen.insert(state, value);
    }
    None
}

/// Bytes in GiB for messages, e.g. `331.1 GiB`.
fn gibibytes(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}
