//! Reader for Cassandra's text format for MDPs and POMDPs (`.MDP`, `.POMDP`), the format of
//! pomdp-solve, POMDPs.jl's POMDPFiles, APPL/SARSOP and much course material.
//!
//! A POMDP file is read as its **underlying MDP**: the declared states (in order), actions,
//! discount and transition law T(s'|s,a), with every transition's reward replaced by its
//! expectation over the observation that follows it:
//!
//! ```text
//! r(s,a,s') = Σ_o O(o | s',a) · R(a,s,s',o)     file with an `observations:` line (POMDP)
//! r(s,a,s') = R(a,s,s')                         file without one (MDP)
//! ```
//!
//! The model gets one outcome per nonzero T(s'|s,a), carrying r(s,a,s'), so its pair reward
//! is r(s,a) = Σ_s' T(s'|s,a) · r(s,a,s').
//!
//! ```
//! use decide_io::{cassandra, ReadOptions};
//! use std::path::Path;
//! let text = "discount: 0.9\nvalues: reward\nstates: 2\nactions: stay\n\
//!             T: stay identity\nR: stay : 1 : * 1.0\n";
//! let model = cassandra::read_from(Path::new("two.MDP"), text.as_bytes(), &ReadOptions::default())?;
//! assert_eq!(model.mdp.n_states(), 2);
//! assert_eq!(model.mdp.pair_reward(1), 1.0);
//! assert_eq!(model.discount, Some(0.9));
//! # Ok::<(), decide_io::ReadError>(())
//! ```
//!
//! # What is supported
//!
//! The reader is a token-stream parser that follows the grammar of pomdp-solve's `parser.y`
//! with the tokens of its `scanner.l`:
//!
//! - `#` comments, free whitespace and newlines (matrices may wrap anywhere), optional
//!   spaces around `:` (`discount : 0.95`);
//! - INT `[0-9]+` and FLOAT `[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?` (so `1.` and `1e-3` are
//!   numbers); signs are separate tokens, allowed on rewards and the discount only;
//! - names `[A-Za-z][A-Za-z0-9_-]*` (reserved words excluded; no length limit below the
//!   64 KiB token cap), declared on one line or across many; states, actions and
//!   observations may be referred to by name, by 0-based index, or by `*` (every one),
//!   mixed freely;
//! - preamble `discount:`, `values: reward|cost`, `states:`, `actions:`, `observations:`
//!   (each a count or a list of names, in any order, each once), then an optional `start:`
//!   (a distribution, a state, `uniform`, `start include:` / `start exclude:`), then any
//!   number of `T:`, `O:` and `R:` specs in all three forms each (single entry, row,
//!   whole matrix), with `uniform`, `identity` (T matrix) and `reset` (T row: the row
//!   becomes the start distribution; a POMDP without `start:` starts uniformly);
//! - MDP rewards `R: a : s : s' v`, `R: a : s <S values>`, `R: a <S×S values>`.
//!
//! Semantics: whatever the file never sets is 0; a later line overwrites earlier values for
//! the entries it names, wildcards being expanded when the line is read, so order matters.
//! Probabilities are used exactly as written (never renormalised); every T row, and in a
//! POMDP every O row (the rewards are averaged over it), must sum to 1 within the tolerance
//! (1e-5 unless [`ReadOptions::probability_tolerance`] says otherwise), so every state has
//! every action. `values: cost` gives [`Sense::Minimize`]. A discount of 1 is stored as
//! given; the solver decides what it allows.
//!
//! Storage stays proportional to what the file sets: T and O rows are sparse, and reward
//! lines are kept as a list of rules that are applied, in file order, only to the
//! (s, a, s', o) combinations that have nonzero probability once the file has been read.
//!
//! # Choices where the sources differ, and deviations
//!
//! - `.5` is rejected, as by the reference scanner (the prose spec is looser), with a
//!   message saying to write `0.5`; `1.` is accepted, as by the scanner.
//! - The 4-field reward `R: a : s : s' : o v` is accepted in an MDP file when `o` is `*`
//!   (the R `pomdp` package writes MDPs that way), although the reference grammar rejects
//!   it; any other observation there is an error.
//! - `O:` lines in an MDP file are an error on sight rather than at the end.
//! - In an MDP file, `start:` must name one state, and `reset` needs it.
//! - A negative probability gets its own message (the reference reports a syntax error).
//! - Limits, so that a hostile file fails fast instead of exhausting memory or time: at
//!   most [`MAX_STATES`] states, [`MAX_ACTIONS`] actions, [`MAX_OBSERVATIONS`]
//!   observations, [`MAX_PAIRS`] (state, action) pairs, [`MAX_TABLE_WRITES`] table entries
//!   written or visited while expanding wildcards, `uniform`, matrices and reward lines,
//!   and tokens of at most 64 KiB.
//!
//! Every error is a [`ReadError`] with the file and the 1-based line (only a file that
//! cannot be opened has no line). Errors found once the whole file is read name the line
//! that last wrote the row at fault, or the last line of the file for a row never written.

use crate::{Format, LoadedModel, MemoryGuard, ReadError, ReadErrorKind, ReadOptions};
use decide_core::{MdpBuilder, Sense, ValidationOptions};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::Path;

/// Probability-sum tolerance of the format (pomdp-solve's `EPSILON` check).
pub const DEFAULT_PROBABILITY_TOLERANCE: f64 = 1e-5;
/// Most states a file may declare.
pub const MAX_STATES: u64 = 1 << 24;
/// Most actions a file may declare.
pub const MAX_ACTIONS: u64 = 1 << 20;
/// Most observations a file may declare.
pub const MAX_OBSERVATIONS: u64 = 1 << 20;
/// Most (state, action) pairs, states × actions: each needs a T row, so the model holds at
/// least this many outcomes.
pub const MAX_PAIRS: u64 = 1 << 24;
/// Most table entries one file may make the reader write or visit (wildcards, `uniform`,
/// matrices and the reward rules together); a line that goes past it is an error.
pub const MAX_TABLE_WRITES: u64 = 1 << 28;
/// Longest token (a name or a number), in bytes.
const MAX_TOKEN_BYTES: usize = 1 << 16;
/// Size of the read buffer.
const BUFFER_BYTES: usize = 1 << 16;

/// Reads a Cassandra `.MDP` / `.POMDP` file as an MDP (see the [module docs](self)).
pub fn read(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    let mut file = File::open(path).map_err(|e| ReadError::new(path, None, e.into()))?;
    read_dyn(path, &mut file, options, MAX_TABLE_WRITES)
}

/// Reads Cassandra text from `input`; `path_for_messages` is only used in errors.
pub fn read_from(
    path_for_messages: &Path,
    mut input: impl Read,
    options: &ReadOptions,
) -> Result<LoadedModel, ReadError> {
    read_dyn(path_for_messages, &mut input, options, MAX_TABLE_WRITES)
}

/// [`read_from`] with a tighter bound than [`MAX_TABLE_WRITES`] on the table entries a file
/// may make the reader write or visit. A short file with wildcards can describe a valid
/// model of hundreds of millions of transitions, which takes seconds and gigabytes to
/// build: correct, but what a fuzzer must not spend each input on.
pub fn read_from_with_budget(
    path_for_messages: &Path,
    mut input: impl Read,
    options: &ReadOptions,
    max_table_writes: u64,
) -> Result<LoadedModel, ReadError> {
    read_dyn(path_for_messages, &mut input, options, max_table_writes)
}

fn read_dyn(
    path: &Path,
    input: &mut dyn Read,
    options: &ReadOptions,
    max_table_writes: u64,
) -> Result<LoadedModel, ReadError> {
    let tolerance = options
        .probability_tolerance
        .unwrap_or(DEFAULT_PROBABILITY_TOLERANCE);
    // A byte-order mark, as Windows editors write, is not part of the text.
    let mut input =
        crate::skip_byte_order_mark(input).map_err(|e| ReadError::new(path, None, e.into()))?;
    let mut parser = Parser {
        path,
        lexer: Lexer::new(path, &mut input),
        peeked: None,
        last_line: 1,
        tolerance,
        budget: WorkBudget {
            used: 0,
            limit: max_table_writes,
        },
    };
    let header = parser.parse_header()?;
    let mut specs = Specs::new(&header);
    parser.parse_specs(&header, &mut specs)?;
    parser.compile(header, specs)
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keyword {
    Discount,
    Values,
    States,
    Actions,
    Observations,
    T,
    O,
    R,
    Uniform,
    Identity,
    Reward,
    Cost,
    Start,
    Include,
    Exclude,
    Reset,
}

impl Keyword {
    fn from_word(word: &str) -> Option<Keyword> {
        Some(match word {
            "discount" => Keyword::Discount,
            "values" => Keyword::Values,
            "states" => Keyword::States,
            "actions" => Keyword::Actions,
            "observations" => Keyword::Observations,
            "T" => Keyword::T,
            "O" => Keyword::O,
            "R" => Keyword::R,
            "uniform" => Keyword::Uniform,
            "identity" => Keyword::Identity,
            "reward" => Keyword::Reward,
            "cost" => Keyword::Cost,
            "start" => Keyword::Start,
            "include" => Keyword::Include,
            "exclude" => Keyword::Exclude,
            "reset" => Keyword::Reset,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            Keyword::Discount => "discount",
            Keyword::Values => "values",
            Keyword::States => "states",
            Keyword::Actions => "actions",
            Keyword::Observations => "observations",
            Keyword::T => "T",
            Keyword::O => "O",
            Keyword::R => "R",
            Keyword::Uniform => "uniform",
            Keyword::Identity => "identity",
            Keyword::Reward => "reward",
            Keyword::Cost => "cost",
            Keyword::Start => "start",
            Keyword::Include => "include",
            Keyword::Exclude => "exclude",
            Keyword::Reset => "reset",
        }
    }

    fn is_preamble(self) -> bool {
        matches!(
            self,
            Keyword::Discount
                | Keyword::Values
                | Keyword::States
                | Keyword::Actions
                | Keyword::Observations
        )
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Colon,
    Star,
    Minus,
    Plus,
    /// `[0-9]+`: its value as an index (`None` when it does not fit in `u64`) and as a number.
    Int {
        index: Option<u64>,
        value: f64,
    },
    Float(f64),
    Name(String),
    Keyword(Keyword),
    End,
}

impl Tok {
    fn is_number(&self) -> bool {
        matches!(self, Tok::Int { .. } | Tok::Float(_))
    }

    fn is_number_or_sign(&self) -> bool {
        self.is_number() || matches!(self, Tok::Minus | Tok::Plus)
    }

    fn describe(&self) -> String {
        match self {
            Tok::Colon => "`:`".into(),
            Tok::Star => "`*`".into(),
            Tok::Minus => "`-`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Int { value, .. } | Tok::Float(value) => format!("the number {value}"),
            Tok::Name(name) => format!("the name `{}`", shorten(name)),
            Tok::Keyword(k) => format!("the reserved word `{}`", k.word()),
            Tok::End => "the end of the file".into(),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: u64,
}

fn shorten(text: &str) -> String {
    const KEEP: usize = 40;
    if text.len() <= KEEP {
        text.to_string()
    } else {
        // Tokens are ASCII, so byte slicing stays on character boundaries.
        format!("{}…", text.get(..KEEP).unwrap_or(""))
    }
}

/// Splits the input into tokens, streaming it through a fixed buffer.
struct Lexer<'r> {
    path: &'r Path,
    input: &'r mut dyn Read,
    buffer: Vec<u8>,
    position: usize,
    filled: usize,
    input_done: bool,
    line: u64,
    text: String,
}

impl<'r> Lexer<'r> {
    fn new(path: &'r Path, input: &'r mut dyn Read) -> Self {
        Lexer {
            path,
            input,
            buffer: vec![0; BUFFER_BYTES],
            position: 0,
            filled: 0,
            input_done: false,
            line: 1,
            text: String::new(),
        }
    }

    fn error(&self, line: u64, message: String) -> ReadError {
        ReadError::new(self.path, Some(line), ReadErrorKind::Format(message))
    }

    /// The byte `offset` places ahead (0 = next), without consuming; `None` at the end.
    fn byte_at(&mut self, offset: usize) -> Result<Option<u8>, ReadError> {
        while self.filled - self.position <= offset {
            if self.input_done {
                return Ok(None);
            }
            self.buffer.copy_within(self.position..self.filled, 0);
            self.filled -= self.position;
            self.position = 0;
            loop {
                match self.input.read(&mut self.buffer[self.filled..]) {
                    Ok(0) => {
                        self.input_done = true;
                        break;
                    }
                    Ok(n) => {
                        self.filled += n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(ReadError::new(self.path, Some(self.line), e.into()));
                    }
                }
            }
        }
        Ok(self.buffer.get(self.position + offset).copied())
    }

    fn advance(&mut self) {
        self.position += 1;
    }

    fn push_text(&mut self, byte: u8, line: u64) -> Result<(), ReadError> {
        if self.text.len() >= MAX_TOKEN_BYTES {
            return Err(self.error(
                line,
                format!(
                    "a name or number longer than {MAX_TOKEN_BYTES} bytes (starts with `{}`)",
                    shorten(&self.text)
                ),
            ));
        }
        self.text.push(char::from(byte));
        self.advance();
        Ok(())
    }

    fn next_token(&mut self) -> Result<Token, ReadError> {
        loop {
            match self.byte_at(0)? {
                None => {
                    return Ok(Token {
                        tok: Tok::End,
                        line: self.line,
                    });
                }
                Some(b'\n') => {
                    self.line += 1;
                    self.advance();
                }
                Some(b' ' | b'\t' | b'\r') => self.advance(),
                Some(b'#') => {
                    while let Some(byte) = self.byte_at(0)? {
                        if byte == b'\n' {
                            break;
                        }
                        self.advance();
                    }
                }
                Some(byte) => return self.token_starting_with(byte),
            }
        }
    }

    fn token_starting_with(&mut self, first: u8) -> Result<Token, ReadError> {
        let line = self.line;
        let simple = |tok| Ok(Token { tok, line });
        match first {
            b':' => {
                self.advance();
                simple(Tok::Colon)
            }
            b'*' => {
                self.advance();
                simple(Tok::Star)
            }
            b'-' => {
                self.advance();
                simple(Tok::Minus)
            }
            b'+' => {
                self.advance();
                simple(Tok::Plus)
            }
            b'0'..=b'9' => {
                let tok = self.number(line)?;
                simple(tok)
            }
            b'A'..=b'Z' | b'a'..=b'z' => {
                self.text.clear();
                while let Some(byte) = self.byte_at(0)? {
                    if !(byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-') {
                        break;
                    }
                    self.push_text(byte, line)?;
                }
                let tok = match Keyword::from_word(&self.text) {
                    Some(keyword) => Tok::Keyword(keyword),
                    None => Tok::Name(self.text.clone()),
                };
                simple(tok)
            }
            b'.' if self.byte_at(1)?.is_some_and(|b| b.is_ascii_digit()) => Err(self.error(
                line,
                "a number must start with a digit: write 0.5, not .5 (the format's reference \
                 scanner rejects a leading `.`)"
                    .into(),
            )),
            0x21..=0x7e => Err(self.error(
                line,
                format!("unexpected character `{}`", char::from(first)),
            )),
            _ => Err(self.error(line, format!("unexpected byte 0x{first:02x}"))),
        }
    }

    /// INT `[0-9]+` or FLOAT `[0-9]+ (\.[0-9]*)? ([eE][+-]?[0-9]+)?` (at least one of the two
    /// optional parts), the longest match, like the reference scanner.
    fn number(&mut self, line: u64) -> Result<Tok, ReadError> {
        self.text.clear();
        self.digits(line)?;
        let mut is_float = false;
        if self.byte_at(0)? == Some(b'.') {
            is_float = true;
            self.push_text(b'.', line)?;
            self.digits(line)?;
        }
        if let Some(e @ (b'e' | b'E')) = self.byte_at(0)? {
            let sign = self.byte_at(1)?.filter(|b| matches!(b, b'+' | b'-'));
            let first_digit = if sign.is_some() { 2 } else { 1 };
            // Without a digit after it, the `e` starts the next token (a name).
            if self
                .byte_at(first_digit)?
                .is_some_and(|b| b.is_ascii_digit())
            {
                is_float = true;
                self.push_text(e, line)?;
                if let Some(sign) = sign {
                    self.push_text(sign, line)?;
                }
                self.digits(line)?;
            }
        }
        let value: f64 = self
            .text
            .parse()
            .map_err(|_| self.error(line, format!("`{}` is not a number", shorten(&self.text))))?;
        if is_float {
            Ok(Tok::Float(value))
        } else {
            Ok(Tok::Int {
                index: self.text.parse().ok(),
                value,
            })
        }
    }

    fn digits(&mut self, line: u64) -> Result<(), ReadError> {
        while let Some(byte) = self.byte_at(0)? {
            if !byte.is_ascii_digit() {
                break;
            }
            self.push_text(byte, line)?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Declarations and references

/// The declared states, actions or observations.
struct Domain {
    /// "state", "action" or "observation".
    noun: &'static str,
    count: u32,
    /// Names in index order, when the file listed names rather than a count.
    names: Option<Vec<String>>,
    by_name: HashMap<String, u32>,
}

impl Domain {
    /// How messages show element `index`: its name when it has one.
    fn label(&self, index: u32) -> String {
        match self.names.as_ref().and_then(|n| n.get(index as usize)) {
            Some(name) => format!("`{name}`"),
            None => index.to_string(),
        }
    }
}

/// One slot of a spec: one element, or `*` for every one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pick {
    All,
    One(u32),
}

impl Pick {
    fn matches(self, index: u32) -> bool {
        match self {
            Pick::All => true,
            Pick::One(i) => i == index,
        }
    }

    fn count(self, of: u32) -> u64 {
        match self {
            Pick::All => u64::from(of),
            Pick::One(_) => 1,
        }
    }

    fn range(self, of: u32) -> Range<u32> {
        match self {
            Pick::All => 0..of,
            Pick::One(i) => i..i.saturating_add(1),
        }
    }
}

/// The positions in `sorted` (sorted by `key`) whose key `pick` selects.
fn picked_positions<T>(sorted: &[T], key: impl Fn(&T) -> u32, pick: Pick) -> Range<usize> {
    match pick {
        Pick::All => 0..sorted.len(),
        Pick::One(wanted) => match sorted.binary_search_by_key(&wanted, key) {
            Ok(i) => i..i + 1,
            Err(_) => 0..0,
        },
    }
}

/// What `start:` said.
enum StartSpec {
    /// No `start:` line: a uniform belief in a POMDP, no start state in an MDP.
    Absent,
    State(u32),
    /// A full distribution, sparse (nonzero entries by increasing state).
    Belief(Vec<(u32, f64)>),
    Uniform,
    /// Uniform over these states (sorted, distinct).
    Include(Vec<u32>),
    /// Uniform over all states but these (sorted, distinct; at least one state remains).
    Exclude(Vec<u32>),
}

/// The preamble and start line.
struct Header {
    discount: f64,
    sense: Sense,
    states: Domain,
    actions: Domain,
    /// `None` makes the file an MDP.
    observations: Option<Domain>,
    start: StartSpec,
}

impl Header {
    fn is_pomdp(&self) -> bool {
        self.observations.is_some()
    }

    /// Observation count; an MDP is treated as having one observation, seen with probability 1.
    fn n_observations(&self) -> u32 {
        self.observations.as_ref().map_or(1, |o| o.count)
    }
}

// ---------------------------------------------------------------------------------------
// Tables

/// Counts the entries written or visited, so that a few wildcard lines cannot make the
/// reader run for hours or fill memory.
struct WorkBudget {
    used: u64,
    /// [`MAX_TABLE_WRITES`] unless the caller asked for less.
    limit: u64,
}

impl WorkBudget {
    /// Checks that `amount` more would still fit, without using it: called before
    /// allocating something whose writing is charged later.
    fn check_room(&self, amount: u64) -> Result<(), String> {
        let mut probe = WorkBudget {
            used: self.used,
            limit: self.limit,
        };
        probe.charge(amount)
    }

    fn charge(&mut self, amount: u64) -> Result<(), String> {
        self.used = self.used.saturating_add(amount);
        if self.used > self.limit {
            Err(format!(
                "expanding this line takes the file past {} table entries, \
                 the most this reader writes for one file (wildcards, `uniform` and matrices \
                 over many states multiply quickly)",
                self.limit
            ))
        } else {
            Ok(())
        }
    }
}

/// One row of T (columns = end states) or O (columns = observations), sparse.
#[derive(Default)]
struct SparseRow {
    /// Nonzero entries by increasing column; zero is the default and is not stored.
    entries: Vec<(u32, f64)>,
    /// The line that last wrote to this row, for messages about it.
    line: u64,
}

impl SparseRow {
    fn set(&mut self, column: u32, value: f64) {
        // Files usually write a row left to right, so appending is the common case.
        match self.entries.last() {
            None => {
                if value != 0.0 {
                    self.entries.push((column, value));
                }
                return;
            }
            Some(&(last, _)) if last < column => {
                if value != 0.0 {
                    self.entries.push((column, value));
                }
                return;
            }
            Some(_) => {}
        }
        match self.entries.binary_search_by_key(&column, |e| e.0) {
            Ok(i) if value == 0.0 => {
                self.entries.remove(i);
            }
            Ok(i) => self.entries[i].1 = value,
            Err(i) if value != 0.0 => self.entries.insert(i, (column, value)),
            Err(_) => {}
        }
    }
}

/// T(·|s,a) rows keyed by (a, s), or O(·|s',a) rows keyed by (a, s'), stored sparsely and
/// only for rows the file wrote.
struct SparseTable {
    n_actions: u32,
    rows_per_action: u32,
    columns: u32,
    rows: HashMap<u64, SparseRow>,
}

impl SparseTable {
    fn new(n_actions: u32, rows_per_action: u32, columns: u32) -> Self {
        SparseTable {
            n_actions,
            rows_per_action,
            columns,
            rows: HashMap::new(),
        }
    }

    fn key(&self, action: u32, row: u32) -> u64 {
        u64::from(action) * u64::from(self.rows_per_action) + u64::from(row)
    }

    /// Sets `value` at every (action, row, column) the picks select.
    fn write_cells(
        &mut self,
        action: Pick,
        row: Pick,
        column: Pick,
        value: f64,
        line: u64,
        budget: &mut WorkBudget,
    ) -> Result<(), String> {
        let selected = action
            .count(self.n_actions)
            .saturating_mul(row.count(self.rows_per_action));
        let stored = self.rows.len() as u64;
        if value == 0.0 && selected > stored {
            // Zero is the default, so only rows already written can change: visit those
            // instead of every selected one. This keeps the common opening line
            // `T: * : * : * 0.0` cheap however many states there are.
            budget.charge(stored)?;
            let rows_per_action = u64::from(self.rows_per_action.max(1));
            for (key, stored_row) in self.rows.iter_mut() {
                let (a, r) = (key / rows_per_action, key % rows_per_action);
                let selected_here = action.matches(a as u32) && row.matches(r as u32);
                if selected_here {
                    match column {
                        Pick::All => stored_row.entries.clear(),
                        Pick::One(c) => stored_row.set(c, 0.0),
                    }
                    stored_row.line = line;
                }
            }
            return Ok(());
        }
        let per_row = match column {
            Pick::All => u64::from(self.columns),
            Pick::One(_) => 1,
        };
        budget.charge(selected.saturating_mul(per_row.saturating_add(1)))?;
        for a in action.range(self.n_actions) {
            for r in row.range(self.rows_per_action) {
                let key = self.key(a, r);
                let stored_row = self.rows.entry(key).or_default();
                stored_row.line = line;
                match column {
                    Pick::One(c) => stored_row.set(c, value),
                    Pick::All => {
                        stored_row.entries.clear();
                        if value != 0.0 {
                            stored_row
                                .entries
                                .extend((0..self.columns).map(|c| (c, value)));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Replaces every row the picks select by `entries` (sparse, by increasing column).
    fn write_rows(
        &mut self,
        action: Pick,
        row: Pick,
        entries: &[(u32, f64)],
        line: u64,
        budget: &mut WorkBudget,
    ) -> Result<(), String> {
        let selected = action
            .count(self.n_actions)
            .saturating_mul(row.count(self.rows_per_action));
        budget.charge(selected.saturating_mul(entries.len() as u64 + 1))?;
        for a in action.range(self.n_actions) {
            for r in row.range(self.rows_per_action) {
                let key = self.key(a, r);
                let stored_row = self.rows.entry(key).or_default();
                stored_row.entries.clear();
                stored_row.entries.extend_from_slice(entries);
                stored_row.line = line;
            }
        }
        Ok(())
    }
}

/// The numbers of one `R:` line, and which of (s, s', o) they vary over.
enum RewardValues {
    /// One value for every selected entry.
    Single(f64),
    /// POMDP `R: a : s : s' <O values>`: indexed by o.
    PerObservation(Vec<f64>),
    /// POMDP `R: a : s <S×O values>`: indexed by (s', o), row-major.
    PerEndAndObservation(Vec<f64>),
    /// MDP `R: a : s <S values>`: indexed by s'.
    PerEnd(Vec<f64>),
    /// MDP `R: a <S×S values>`: indexed by (s, s'), row-major.
    PerStartAndEnd(Vec<f64>),
}

/// One `R:` line, kept as written: it is applied after the whole file is read, and only to
/// the entries that matter, so a wildcard line costs nothing until then.
struct RewardRule {
    action: Pick,
    start: Pick,
    end: Pick,
    observation: Pick,
    values: RewardValues,
    line: u64,
}

impl RewardRule {
    fn value(&self, start: u32, end: u32, observation: u32, n_states: u32, n_obs: u32) -> f64 {
        let at = |values: &[f64], i: u64| {
            debug_assert!((i as usize) < values.len(), "counts were checked when read");
            usize::try_from(i)
                .ok()
                .and_then(|i| values.get(i))
                .copied()
                .unwrap_or(0.0)
        };
        match &self.values {
            RewardValues::Single(v) => *v,
            RewardValues::PerObservation(v) => at(v, u64::from(observation)),
            RewardValues::PerEndAndObservation(v) => at(
                v,
                u64::from(end) * u64::from(n_obs) + u64::from(observation),
            ),
            RewardValues::PerEnd(v) => at(v, u64::from(end)),
            RewardValues::PerStartAndEnd(v) => {
                at(v, u64::from(start) * u64::from(n_states) + u64::from(end))
            }
        }
    }
}

/// Everything the T, O and R lines set.
struct Specs {
    transitions: SparseTable,
    observations: SparseTable,
    rewards: Vec<RewardRule>,
    /// The start distribution, worked out at the first `reset`.
    start_row: Option<Vec<(u32, f64)>>,
}

impl Specs {
    fn table_mut(&mut self, table: Table) -> &mut SparseTable {
        match table {
            Table::Transitions => &mut self.transitions,
            Table::Observations => &mut self.observations,
        }
    }

    fn new(header: &Header) -> Self {
        let (s, a) = (header.states.count, header.actions.count);
        Specs {
            transitions: SparseTable::new(a, s, s),
            observations: SparseTable::new(a, s, header.n_observations()),
            rewards: Vec::new(),
            start_row: None,
        }
    }
}

/// What an MDP file's transitions are observed as: one observation, with probability 1.
static CERTAIN_OBSERVATION: [(u32, f64); 1] = [(0, 1.0)];

/// The O rows by (a, s'), compressed; an MDP sees [`CERTAIN_OBSERVATION`] everywhere.
struct ObservationRows<'a> {
    is_pomdp: bool,
    n_states: usize,
    row_starts: &'a [usize],
    cells: &'a [(u32, f64)],
}

impl<'a> ObservationRows<'a> {
    fn row(&self, action: u32, end: u32) -> &'a [(u32, f64)] {
        if !self.is_pomdp {
            return &CERTAIN_OBSERVATION;
        }
        let row = action as usize * self.n_states + end as usize;
        match (self.row_starts.get(row), self.row_starts.get(row + 1)) {
            (Some(&lo), Some(&hi)) => self.cells.get(lo..hi).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Which table a T or O spec writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Transitions,
    Observations,
}

impl Table {
    fn letter(self) -> &'static str {
        match self {
            Table::Transitions => "T",
            Table::Observations => "O",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parser

struct Parser<'r> {
    path: &'r Path,
    lexer: Lexer<'r>,
    peeked: Option<Token>,
    /// Line of the last token taken, where an unexpected end of file is reported.
    last_line: u64,
    tolerance: f64,
    budget: WorkBudget,
}

impl Parser<'_> {
    fn error(&self, line: u64, message: impl Into<String>) -> ReadError {
        ReadError::new(self.path, Some(line), ReadErrorKind::Format(message.into()))
    }

    fn peek(&mut self) -> Result<&Token, ReadError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next_token()?);
        }
        match &self.peeked {
            Some(token) => Ok(token),
            None => Err(self.error(self.last_line, "internal error: lost a token")),
        }
    }

    fn next(&mut self) -> Result<Token, ReadError> {
        let mut token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        if token.tok == Tok::End {
            // Report a truncated file where its text stops, not on a trailing empty line.
            token.line = self.last_line;
        } else {
            self.last_line = token.line;
        }
        Ok(token)
    }

    /// The line of the next token (the last line of text at the end of the file).
    fn next_line(&mut self) -> Result<u64, ReadError> {
        let last_line = self.last_line;
        let token = self.peek()?;
        Ok(if token.tok == Tok::End {
            last_line
        } else {
            token.line
        })
    }

    fn unexpected(&self, token: &Token, expected: &str) -> ReadError {
        let found = match &token.tok {
            Tok::End => "the file ends".to_string(),
            other => format!("found {}", other.describe()),
        };
        self.error(token.line, format!("expected {expected}, {found}"))
    }

    fn expect_colon(&mut self, after: &str) -> Result<(), ReadError> {
        let token = self.next()?;
        if token.tok == Tok::Colon {
            Ok(())
        } else {
            Err(self.unexpected(&token, &format!("`:` after `{after}`")))
        }
    }

    fn charge(&mut self, amount: u64, line: u64) -> Result<(), ReadError> {
        self.budget
            .charge(amount)
            .map_err(|message| self.error(line, message))
    }

    fn check_room(&self, amount: u64, line: u64) -> Result<(), ReadError> {
        self.budget
            .check_room(amount)
            .map_err(|message| self.error(line, message))
    }

    // -- numbers -----------------------------------------------------------------------

    /// Takes the next probability (an unsigned INT or FLOAT in [0, 1]) if a number comes next.
    fn next_probability(&mut self) -> Result<Option<(f64, u64)>, ReadError> {
        let line = self.next_line()?;
        match self.peek()?.tok {
            Tok::Int { value, .. } | Tok::Float(value) => {
                self.next()?;
                if !(0.0..=1.0).contains(&value) {
                    return Err(self.error(line, format!("probability {value} is outside [0, 1]")));
                }
                Ok(Some((value, line)))
            }
            Tok::Minus => {
                self.next()?;
                let shown = match self.peek()?.tok {
                    Tok::Int { value, .. } | Tok::Float(value) => format!(" -{value}"),
                    _ => String::new(),
                };
                Err(self.error(
                    line,
                    format!("negative probability{shown}: probabilities must be in [0, 1]"),
                ))
            }
            Tok::Plus => {
                self.next()?;
                Err(self.error(line, "a probability takes no sign"))
            }
            _ => Ok(None),
        }
    }

    /// Takes the next signed number (reward or discount) if one comes next.
    fn next_number(&mut self) -> Result<Option<(f64, u64)>, ReadError> {
        let line = self.next_line()?;
        let sign = match self.peek()?.tok {
            Tok::Minus => -1.0,
            Tok::Plus => 1.0,
            Tok::Int { .. } | Tok::Float(_) => 0.0,
            _ => return Ok(None),
        };
        if sign != 0.0 {
            self.next()?;
        }
        let token = self.next()?;
        let magnitude = match token.tok {
            Tok::Int { value, .. } | Tok::Float(value) => value,
            _ => return Err(self.unexpected(&token, "a number after the sign")),
        };
        let value = if sign < 0.0 { -magnitude } else { magnitude };
        if !value.is_finite() {
            return Err(self.error(line, format!("{value} is not a finite number")));
        }
        Ok(Some((value, line)))
    }

    /// Consumes the numbers (and signs) that follow, returning how many numbers there were:
    /// used to say how many a spec with too many had.
    fn skip_numbers(&mut self) -> Result<u64, ReadError> {
        let mut count = 0u64;
        while self.peek()?.tok.is_number_or_sign() {
            if self.next()?.tok.is_number() {
                count += 1;
            }
        }
        Ok(count)
    }

    /// The error for a matrix or row with `found` numbers where `expected` are needed.
    fn count_error(
        &self,
        line: u64,
        what: &str,
        expected: u64,
        shape: &str,
        found: u64,
    ) -> ReadError {
        let plural = if expected == 1 { "" } else { "s" };
        self.error(
            line,
            format!("{what} needs {expected} number{plural} ({shape}), found {found}"),
        )
    }

    /// Reads exactly `expected` signed numbers (greedily: more is an error).
    fn read_numbers(
        &mut self,
        expected: u64,
        spec_line: u64,
        what: &str,
        shape: &str,
    ) -> Result<Vec<f64>, ReadError> {
        // Reserve only what the file can back with text soon; the count may be large.
        let mut values = Vec::with_capacity(expected.min(1 << 16) as usize);
        while let Some((value, _)) = self.next_number()? {
            if values.len() as u64 == expected {
                let found = expected + 1 + self.skip_numbers()?;
                return Err(self.count_error(spec_line, what, expected, shape, found));
            }
            values.push(value);
        }
        if (values.len() as u64) < expected {
            return Err(self.count_error(spec_line, what, expected, shape, values.len() as u64));
        }
        Ok(values)
    }

    // -- references --------------------------------------------------------------------

    /// A state, action or observation: name, 0-based index or `*`.
    fn parse_ref(&mut self, domain: &Domain) -> Result<Pick, ReadError> {
        let token = self.next()?;
        match &token.tok {
            Tok::Star => Ok(Pick::All),
            Tok::Int { index, value } => match index {
                Some(i) if *i < u64::from(domain.count) => Ok(Pick::One(*i as u32)),
                _ => Err(self.error(
                    token.line,
                    format!(
                        "{} {value} is out of range (the file declares {} {}s, numbered 0 to {})",
                        domain.noun,
                        domain.count,
                        domain.noun,
                        domain.count - 1
                    ),
                )),
            },
            Tok::Name(name) => match domain.by_name.get(name) {
                Some(&i) => Ok(Pick::One(i)),
                None if domain.names.is_none() => Err(self.error(
                    token.line,
                    format!(
                        "unknown {} `{}`: the {}s are declared by count, so refer to them \
                         as 0 to {}",
                        domain.noun,
                        shorten(name),
                        domain.noun,
                        domain.count - 1
                    ),
                )),
                None => Err(self.error(
                    token.line,
                    format!("unknown {} `{}`", domain.noun, shorten(name)),
                )),
            },
            _ => Err(self.unexpected(
                &token,
                &format!("{} (a name, an index or `*`)", domain.noun),
            )),
        }
    }

    // -- preamble ----------------------------------------------------------------------

    fn parse_header(&mut self) -> Result<Header, ReadError> {
        let mut discount: Option<f64> = None;
        let mut sense: Option<Sense> = None;
        let mut states: Option<Domain> = None;
        let mut actions: Option<Domain> = None;
        let mut observations: Option<Domain> = None;
        let mut start: Option<StartSpec> = None;
        loop {
            let token = self.peek()?.clone();
            let keyword = match token.tok {
                Tok::Keyword(Keyword::T | Keyword::O | Keyword::R) | Tok::End => break,
                Tok::Keyword(keyword) if keyword.is_preamble() || keyword == Keyword::Start => {
                    keyword
                }
                _ => {
                    return Err(self.unexpected(
                        &token,
                        "`discount:`, `values:`, `states:`, `actions:`, `observations:`, \
                         `start:` or a `T:`, `O:` or `R:` line",
                    ));
                }
            };
            self.next()?;
            if keyword.is_preamble() && start.is_some() {
                return Err(self.error(
                    token.line,
                    format!("`{}:` must come before `start:`", keyword.word()),
                ));
            }
            let already = match keyword {
                Keyword::Discount => discount.is_some(),
                Keyword::Values => sense.is_some(),
                Keyword::States => states.is_some(),
                Keyword::Actions => actions.is_some(),
                Keyword::Observations => observations.is_some(),
                _ => start.is_some(),
            };
            if already {
                return Err(self.error(
                    token.line,
                    format!("`{}:` appears a second time", keyword.word()),
                ));
            }
            match keyword {
                Keyword::Discount => {
                    self.expect_colon("discount")?;
                    let Some((value, line)) = self.next_number()? else {
                        let found = self.next()?;
                        return Err(self.unexpected(&found, "a number after `discount:`"));
                    };
                    if !(0.0..=1.0).contains(&value) {
                        return Err(self.error(line, format!("discount {value} is outside [0, 1]")));
                    }
                    discount = Some(value);
                }
                Keyword::Values => {
                    self.expect_colon("values")?;
                    let found = self.next()?;
                    sense = Some(match found.tok {
                        Tok::Keyword(Keyword::Reward) => Sense::Maximize,
                        Tok::Keyword(Keyword::Cost) => Sense::Minimize,
                        _ => {
                            return Err(
                                self.unexpected(&found, "`reward` or `cost` after `values:`")
                            );
                        }
                    });
                }
                Keyword::States => states = Some(self.parse_declaration("state", MAX_STATES)?),
                Keyword::Actions => {
                    actions = Some(self.parse_declaration("action", MAX_ACTIONS)?);
                }
                Keyword::Observations => {
                    observations = Some(self.parse_declaration("observation", MAX_OBSERVATIONS)?);
                }
                _ => {
                    let Some(states) = states.as_ref() else {
                        return Err(self.error(token.line, "`start` comes before `states:`"));
                    };
                    let is_pomdp = observations.is_some();
                    start = Some(self.parse_start(states, is_pomdp, token.line)?);
                }
            }
        }

        let line = self.next_line()?;
        let missing = |what: &str| {
            self.error(
                line,
                format!("missing `{what}:` (it must come before the T, O and R lines)"),
            )
        };
        let discount = discount.ok_or_else(|| missing("discount"))?;
        let sense = sense.ok_or_else(|| missing("values"))?;
        let states = states.ok_or_else(|| missing("states"))?;
        let actions = actions.ok_or_else(|| missing("actions"))?;
        let pairs = u64::from(states.count) * u64::from(actions.count);
        if pairs > MAX_PAIRS {
            return Err(self.error(
                line,
                format!(
                    "{} states × {} actions = {pairs} (state, action) pairs is more than this \
                     reader supports (at most {MAX_PAIRS})",
                    states.count, actions.count
                ),
            ));
        }
        Ok(Header {
            discount,
            sense,
            states,
            actions,
            observations,
            start: start.unwrap_or(StartSpec::Absent),
        })
    }

    /// `states: <count>` or `states: name name …` (after the keyword).
    fn parse_declaration(&mut self, noun: &'static str, max: u64) -> Result<Domain, ReadError> {
        let keyword = format!("{noun}s");
        self.expect_colon(&keyword)?;
        let token = self.next()?;
        match token.tok {
            Tok::Int { index, value } => {
                let count = match index {
                    Some(0) => {
                        return Err(self.error(
                            token.line,
                            format!("`{keyword}: 0`: a model needs at least one {noun}"),
                        ));
                    }
                    Some(n) if n <= max => n as u32,
                    _ => {
                        return Err(self.error(
                            token.line,
                            format!(
                                "`{keyword}: {value}` is more {noun}s than this reader \
                                 supports (at most {max})"
                            ),
                        ));
                    }
                };
                Ok(Domain {
                    noun,
                    count,
                    names: None,
                    by_name: HashMap::new(),
                })
            }
            Tok::Name(first) => {
                let mut names = vec![first.clone()];
                let mut by_name = HashMap::from([(first, 0u32)]);
                while let Tok::Name(_) = self.peek()?.tok {
                    let token = self.next()?;
                    let Tok::Name(name) = token.tok else {
                        break;
                    };
                    if names.len() as u64 >= max {
                        return Err(self.error(
                            token.line,
                            format!("more {noun}s than this reader supports (at most {max})"),
                        ));
                    }
                    if by_name.contains_key(&name) {
                        return Err(self.error(
                            token.line,
                            format!("{noun} `{}` is declared twice", shorten(&name)),
                        ));
                    }
                    by_name.insert(name.clone(), names.len() as u32);
                    names.push(name);
                }
                Ok(Domain {
                    noun,
                    count: names.len() as u32,
                    names: Some(names),
                    by_name,
                })
            }
            _ => Err(self.unexpected(
                &token,
                &format!("a count or a list of names after `{keyword}:`"),
            )),
        }
    }

    /// The rest of a `start` line.
    fn parse_start(
        &mut self,
        states: &Domain,
        is_pomdp: bool,
        line: u64,
    ) -> Result<StartSpec, ReadError> {
        let token = self.next()?;
        match token.tok {
            Tok::Keyword(which @ (Keyword::Include | Keyword::Exclude)) => {
                if !is_pomdp {
                    return Err(self.error(
                        line,
                        format!(
                            "`start {}:` is for POMDP files; an MDP file's `start:` names one state",
                            which.word()
                        ),
                    ));
                }
                self.expect_colon(which.word())?;
                let mut listed = Vec::new();
                let mut all = false;
                while matches!(self.peek()?.tok, Tok::Int { .. } | Tok::Name(_) | Tok::Star) {
                    match self.parse_ref(states)? {
                        Pick::All => all = true,
                        Pick::One(s) => {
                            if !all {
                                listed.push(s);
                            }
                        }
                    }
                }
                if !all && listed.is_empty() {
                    let found = self.next()?;
                    return Err(self.unexpected(
                        &found,
                        &format!("a list of states after `start {}:`", which.word()),
                    ));
                }
                listed.sort_unstable();
                listed.dedup();
                match (which, all) {
                    (Keyword::Include, true) => Ok(StartSpec::Uniform),
                    (Keyword::Include, false) => Ok(StartSpec::Include(listed)),
                    _ if all || listed.len() as u64 == u64::from(states.count) => {
                        Err(self.error(line, "`start exclude:` leaves no state to start in"))
                    }
                    _ => Ok(StartSpec::Exclude(listed)),
                }
            }
            Tok::Colon => self.parse_start_value(states, is_pomdp, line),
            _ => Err(self.unexpected(&token, "`:`, `include` or `exclude` after `start`")),
        }
    }

    /// What follows `start:`.
    fn parse_start_value(
        &mut self,
        states: &Domain,
        is_pomdp: bool,
        line: u64,
    ) -> Result<StartSpec, ReadError> {
        let token = self.peek()?.clone();
        match token.tok {
            Tok::Keyword(Keyword::Uniform) => {
                self.next()?;
                if is_pomdp {
                    Ok(StartSpec::Uniform)
                } else {
                    Err(self.error(
                        line,
                        "`start: uniform` is for POMDP files; an MDP file's `start:` names one state",
                    ))
                }
            }
            Tok::Name(_) => match self.parse_ref(states)? {
                Pick::One(s) => Ok(StartSpec::State(s)),
                Pick::All => Err(self.error(line, "internal error: a name picked every state")),
            },
            Tok::Int { .. } if !is_pomdp => {
                let state = self.parse_ref(states)?;
                if self.peek()?.tok.is_number_or_sign() {
                    return Err(self.error(
                        line,
                        "an MDP file's `start:` names one state (a belief vector needs \
                         `observations:`, i.e. a POMDP file)",
                    ));
                }
                match state {
                    Pick::One(s) => Ok(StartSpec::State(s)),
                    Pick::All => {
                        Err(self.error(line, "internal error: an index picked every state"))
                    }
                }
            }
            Tok::Int { .. } | Tok::Float(_) | Tok::Minus | Tok::Plus if is_pomdp => {
                let expected = u64::from(states.count);
                let mut belief = Vec::new();
                let mut count = 0u64;
                let mut sum = 0.0;
                while let Some((p, _)) = self.next_probability()? {
                    if count == expected {
                        let found = expected + 1 + self.skip_numbers()?;
                        return Err(self.count_error(
                            line,
                            "`start:`",
                            expected,
                            "one probability per state",
                            found,
                        ));
                    }
                    if p != 0.0 {
                        belief.push((count as u32, p));
                    }
                    sum += p;
                    count += 1;
                }
                if count < expected {
                    return Err(self.count_error(
                        line,
                        "`start:`",
                        expected,
                        "one probability per state",
                        count,
                    ));
                }
                if (sum - 1.0).abs() > self.tolerance {
                    return Err(self.error(
                        line,
                        format!(
                            "the `start:` probabilities sum to {sum} (must be 1 within {:e})",
                            self.tolerance
                        ),
                    ));
                }
                Ok(StartSpec::Belief(belief))
            }
            _ => {
                let found = self.next()?;
                Err(self.unexpected(
                    &found,
                    if is_pomdp {
                        "probabilities, a state or `uniform` after `start:`"
                    } else {
                        "a state after `start:`"
                    },
                ))
            }
        }
    }

    // -- T, O and R specs --------------------------------------------------------------

    fn parse_specs(&mut self, header: &Header, specs: &mut Specs) -> Result<(), ReadError> {
        loop {
            let token = self.next()?;
            match token.tok {
                Tok::End => return Ok(()),
                Tok::Keyword(Keyword::T) => {
                    self.parse_table_spec(Table::Transitions, header, specs, token.line)?;
                }
                Tok::Keyword(Keyword::O) => {
                    if !header.is_pomdp() {
                        return Err(self.error(
                            token.line,
                            "`O:` line in an MDP file: declare `observations:` to read the \
                             file as a POMDP",
                        ));
                    }
                    self.parse_table_spec(Table::Observations, header, specs, token.line)?;
                }
                Tok::Keyword(Keyword::R) => self.parse_reward_spec(header, specs, token.line)?,
                Tok::Keyword(keyword) if keyword.is_preamble() || keyword == Keyword::Start => {
                    return Err(self.error(
                        token.line,
                        format!(
                            "`{}:` must come before the T, O and R lines",
                            keyword.word()
                        ),
                    ));
                }
                _ => return Err(self.unexpected(&token, "a `T:`, `O:` or `R:` line")),
            }
        }
    }

    /// `T: a : s : s' p`, `T: a : s <row>`, `T: a <matrix>`, or the same three for `O:`
    /// (with end state and observation in place of start and end state).
    fn parse_table_spec(
        &mut self,
        table: Table,
        header: &Header,
        specs: &mut Specs,
        line: u64,
    ) -> Result<(), ReadError> {
        let letter = table.letter();
        self.expect_colon(letter)?;
        let action = self.parse_ref(&header.actions)?;
        let column_domain = match table {
            Table::Transitions => &header.states,
            Table::Observations => header.observations.as_ref().unwrap_or(&header.states),
        };
        let columns = column_domain.count;
        if self.peek()?.tok != Tok::Colon {
            return self.parse_table_matrix(table, action, header, specs, line);
        }
        self.next()?;
        let row = self.parse_ref(&header.states)?;
        if self.peek()?.tok != Tok::Colon {
            let entries = self.parse_table_row(table, columns, header, specs, line)?;
            let target = specs.table_mut(table);
            return target
                .write_rows(action, row, &entries, line, &mut self.budget)
                .map_err(|message| self.error(line, message));
        }
        self.next()?;
        let column = self.parse_ref(column_domain)?;
        let Some((probability, _)) = self.next_probability()? else {
            let found = self.next()?;
            return Err(self.unexpected(
                &found,
                &format!("a probability to end the `{letter}:` line"),
            ));
        };
        if self.peek()?.tok.is_number_or_sign() {
            let found = 1 + self.skip_numbers()?;
            return Err(self.count_error(
                line,
                &format!("this single-entry `{letter}:` line"),
                1,
                "one probability",
                found,
            ));
        }
        let target = specs.table_mut(table);
        target
            .write_cells(action, row, column, probability, line, &mut self.budget)
            .map_err(|message| self.error(line, message))
    }

    /// A row of `columns` probabilities, `uniform`, or (T only) `reset`, as sparse entries.
    fn parse_table_row(
        &mut self,
        table: Table,
        columns: u32,
        header: &Header,
        specs: &mut Specs,
        line: u64,
    ) -> Result<Vec<(u32, f64)>, ReadError> {
        let letter = table.letter();
        let token = self.peek()?.clone();
        match token.tok {
            Tok::Keyword(Keyword::Uniform) => {
                self.next()?;
                self.check_room(u64::from(columns), line)?;
                let p = 1.0 / f64::from(columns);
                Ok((0..columns).map(|c| (c, p)).collect())
            }
            Tok::Keyword(Keyword::Reset) if table == Table::Transitions => {
                self.next()?;
                self.start_row(header, specs, line)
            }
            Tok::Keyword(Keyword::Identity) => Err(self.error(
                token.line,
                format!("`identity` fills a whole matrix: write `{letter}: a identity`"),
            )),
            Tok::Int { .. } | Tok::Float(_) | Tok::Minus | Tok::Plus => {
                let mut entries = Vec::new();
                let mut count = 0u64;
                let expected = u64::from(columns);
                let (what, shape) = match table {
                    Table::Transitions => ("this `T:` row", "one probability per end state"),
                    Table::Observations => ("this `O:` row", "one probability per observation"),
                };
                while let Some((p, _)) = self.next_probability()? {
                    if count == expected {
                        let found = expected + 1 + self.skip_numbers()?;
                        return Err(self.count_error(line, what, expected, shape, found));
                    }
                    if p != 0.0 {
                        entries.push((count as u32, p));
                    }
                    count += 1;
                }
                if count < expected {
                    return Err(self.count_error(line, what, expected, shape, count));
                }
                Ok(entries)
            }
            _ => {
                let found = self.next()?;
                let expected = match table {
                    Table::Transitions => "probabilities, `uniform` or `reset` for the `T:` row",
                    Table::Observations => "probabilities or `uniform` for the `O:` row",
                };
                Err(self.unexpected(&found, expected))
            }
        }
    }

    /// A whole matrix after `T: a` (states × states) or `O: a` (states × observations):
    /// `uniform`, (T only) `identity`, or row-major probabilities, written row by row as
    /// they arrive so that no dense matrix is ever held.
    fn parse_table_matrix(
        &mut self,
        table: Table,
        action: Pick,
        header: &Header,
        specs: &mut Specs,
        line: u64,
    ) -> Result<(), ReadError> {
        let letter = table.letter();
        let n_rows = header.states.count;
        let columns = match table {
            Table::Transitions => header.states.count,
            Table::Observations => header.n_observations(),
        };
        let token = self.peek()?.clone();
        let target = specs.table_mut(table);
        match token.tok {
            Tok::Keyword(Keyword::Uniform) => {
                self.next()?;
                let p = 1.0 / f64::from(columns);
                let selected = action
                    .count(header.actions.count)
                    .saturating_mul(u64::from(n_rows));
                self.budget
                    .check_room(selected.saturating_mul(u64::from(columns)))
                    .map_err(|message| self.error(line, message))?;
                let row: Vec<(u32, f64)> = (0..columns).map(|c| (c, p)).collect();
                target
                    .write_rows(action, Pick::All, &row, line, &mut self.budget)
                    .map_err(|message| self.error(line, message))
            }
            Tok::Keyword(Keyword::Identity) if table == Table::Transitions => {
                self.next()?;
                for s in 0..n_rows {
                    target
                        .write_rows(action, Pick::One(s), &[(s, 1.0)], line, &mut self.budget)
                        .map_err(|message| self.error(line, message))?;
                }
                Ok(())
            }
            Tok::Keyword(Keyword::Reset) if table == Table::Transitions => {
                Err(self.error(token.line, "`reset` fills one row: write `T: a : s reset`"))
            }
            Tok::Int { .. } | Tok::Float(_) | Tok::Minus | Tok::Plus => {
                let expected = u64::from(n_rows) * u64::from(columns);
                let (what, shape) = match table {
                    Table::Transitions => (
                        "this `T:` matrix",
                        format!("{n_rows} × {n_rows}: one row per start state"),
                    ),
                    Table::Observations => (
                        "this `O:` matrix",
                        format!("{n_rows} × {columns}: one row per end state"),
                    ),
                };
                let mut count = 0u64;
                let mut row: Vec<(u32, f64)> = Vec::new();
                while let Some((p, _)) = self.next_probability()? {
                    if count == expected {
                        let found = expected + 1 + self.skip_numbers()?;
                        return Err(self.count_error(line, what, expected, &shape, found));
                    }
                    let column = (count % u64::from(columns)) as u32;
                    if p != 0.0 {
                        row.push((column, p));
                    }
                    count += 1;
                    if column + 1 == columns {
                        let finished_row = ((count - 1) / u64::from(columns)) as u32;
                        let target = specs.table_mut(table);
                        target
                            .write_rows(
                                action,
                                Pick::One(finished_row),
                                &row,
                                line,
                                &mut self.budget,
                            )
                            .map_err(|message| self.error(line, message))?;
                        row.clear();
                    }
                }
                if count < expected {
                    return Err(self.count_error(line, what, expected, &shape, count));
                }
                Ok(())
            }
            _ => {
                let found = self.next()?;
                let expected = match table {
                    Table::Transitions => {
                        format!("probabilities, `uniform` or `identity` for the `{letter}:` matrix")
                    }
                    Table::Observations => {
                        format!("probabilities or `uniform` for the `{letter}:` matrix")
                    }
                };
                Err(self.unexpected(&found, &expected))
            }
        }
    }

    /// The start distribution as a sparse row, for `reset`.
    fn start_row(
        &mut self,
        header: &Header,
        specs: &mut Specs,
        line: u64,
    ) -> Result<Vec<(u32, f64)>, ReadError> {
        if let Some(row) = &specs.start_row {
            return Ok(row.clone());
        }
        let n = header.states.count;
        self.check_room(u64::from(n), line)?;
        let uniform_over = |chosen: &mut dyn Iterator<Item = u32>, size: u64| {
            let p = 1.0 / size as f64;
            chosen.map(|s| (s, p)).collect::<Vec<_>>()
        };
        let row = match &header.start {
            StartSpec::Absent if header.is_pomdp() => uniform_over(&mut (0..n), u64::from(n)),
            StartSpec::Absent => {
                return Err(self.error(
                    line,
                    "`reset` needs a start state, and this MDP file has no `start:` line",
                ));
            }
            StartSpec::State(s) => vec![(*s, 1.0)],
            StartSpec::Belief(belief) => belief.clone(),
            StartSpec::Uniform => uniform_over(&mut (0..n), u64::from(n)),
            StartSpec::Include(listed) => {
                uniform_over(&mut listed.iter().copied(), listed.len() as u64)
            }
            StartSpec::Exclude(listed) => {
                let remaining = u64::from(n) - listed.len() as u64;
                uniform_over(
                    &mut (0..n).filter(|s| listed.binary_search(s).is_err()),
                    remaining,
                )
            }
        };
        specs.start_row = Some(row.clone());
        Ok(row)
    }

    /// `R: a [: s [: s' [: o]]] <numbers>`.
    fn parse_reward_spec(
        &mut self,
        header: &Header,
        specs: &mut Specs,
        line: u64,
    ) -> Result<(), ReadError> {
        self.expect_colon("R")?;
        let action = self.parse_ref(&header.actions)?;
        let mut fields = Vec::with_capacity(3);
        while fields.len() < 3 && self.peek()?.tok == Tok::Colon {
            self.next()?;
            let pick = match (fields.len(), &header.observations) {
                (0 | 1, _) => self.parse_ref(&header.states)?,
                (_, Some(observations)) => self.parse_ref(observations)?,
                (_, None) => {
                    let token = self.next()?;
                    if token.tok != Tok::Star {
                        return Err(self.error(
                            token.line,
                            format!(
                                "this MDP file declares no observations, so the fourth field \
                                 of an `R:` line can only be `*`, found {}",
                                token.tok.describe()
                            ),
                        ));
                    }
                    Pick::All
                }
            };
            fields.push(pick);
        }
        let (n_states, n_obs) = (header.states.count, header.n_observations());
        let s = u64::from(n_states);
        let o = u64::from(n_obs);
        let field = |i: usize| fields.get(i).copied().unwrap_or(Pick::All);
        let (start, end, observation) = (field(0), field(1), field(2));
        let values = match (header.is_pomdp(), fields.len()) {
            (_, 3) | (false, 2) => {
                let v = self.read_numbers(1, line, "this single-entry `R:` line", "one value")?;
                RewardValues::Single(v.first().copied().unwrap_or(0.0))
            }
            (true, 2) => RewardValues::PerObservation(self.read_numbers(
                o,
                line,
                "this `R: a : s : s'` row",
                "one value per observation",
            )?),
            (true, 1) => RewardValues::PerEndAndObservation(self.read_numbers(
                s * o,
                line,
                "this `R: a : s` matrix",
                &format!("{n_states} × {n_obs}: one row per end state, one column per observation"),
            )?),
            (false, 1) => RewardValues::PerEnd(self.read_numbers(
                s,
                line,
                "this `R: a : s` row",
                "one value per end state",
            )?),
            (false, _) => RewardValues::PerStartAndEnd(self.read_numbers(
                s * s,
                line,
                "this `R: a` matrix",
                &format!("{n_states} × {n_states}: one row per start state"),
            )?),
            (true, _) => {
                return Err(self.error(
                    line,
                    "`R: a <matrix>` is only for MDP files; in a POMDP file write \
                     `R: a : s <end states × observations values>` or name more fields",
                ));
            }
        };
        self.charge(1, line)?;
        specs.rewards.push(RewardRule {
            action,
            start,
            end,
            observation,
            values,
            line,
        });
        Ok(())
    }

    // -- compile -----------------------------------------------------------------------

    /// Checks the rows, reduces the rewards to r(s,a,s') and builds the model.
    fn compile(mut self, header: Header, mut specs: Specs) -> Result<LoadedModel, ReadError> {
        let end_line = self.last_line;
        let n_states = header.states.count;
        let n_actions = header.actions.count;
        let n_obs = header.n_observations();
        let tolerance = self.tolerance;

        // T rows in the builder's order (state-major), as compressed sparse rows. The loop
        // stops at the first missing row, so a huge declared count with few rows is cheap.
        let mut pair_entries = vec![0usize];
        let mut next: Vec<u32> = Vec::new();
        let mut probability: Vec<f64> = Vec::new();
        let mut pair_line: Vec<u64> = Vec::new();
        for s in 0..n_states {
            for a in 0..n_actions {
                let key = specs.transitions.key(a, s);
                let Some(row) = specs.transitions.rows.remove(&key) else {
                    return Err(self.error(
                        end_line,
                        format!(
                            "state {}, action {}: no `T:` line gives this pair a transition \
                             (its probabilities sum to 0, must be 1 within {tolerance:e})",
                            header.states.label(s),
                            header.actions.label(a)
                        ),
                    ));
                };
                let sum: f64 = row.entries.iter().map(|e| e.1).sum();
                if (sum - 1.0).abs() > tolerance || sum.is_nan() {
                    return Err(self.error(
                        row.line,
                        format!(
                            "state {}, action {}: the `T:` probabilities sum to {sum} \
                             (must be 1 within {tolerance:e}; this line wrote the row last)",
                            header.states.label(s),
                            header.actions.label(a)
                        ),
                    ));
                }
                for (end, p) in row.entries {
                    next.push(end);
                    probability.push(p);
                }
                pair_entries.push(next.len());
                pair_line.push(row.line);
            }
        }

        // O rows by (a, s'); an MDP sees a single observation with probability 1.
        let mut observation_entries = vec![0usize];
        let mut observation_cells: Vec<(u32, f64)> = Vec::new();
        if let Some(observations) = &header.observations {
            for a in 0..n_actions {
                for end in 0..n_states {
                    let key = specs.observations.key(a, end);
                    let row = specs.observations.rows.remove(&key).unwrap_or_default();
                    let sum: f64 = row.entries.iter().map(|e| e.1).sum();
                    if (sum - 1.0).abs() > tolerance || sum.is_nan() {
                        let line = if row.line == 0 { end_line } else { row.line };
                        let wrote = if row.line == 0 {
                            "no `O:` line sets it"
                        } else {
                            "this line wrote the row last"
                        };
                        return Err(self.error(
                            line,
                            format!(
                                "end state {}, action {}: the `O:` probabilities sum to \
                                 {sum} (must be 1 within {tolerance:e}; {wrote})",
                                header.states.label(end),
                                header.actions.label(a)
                            ),
                        ));
                    }
                    observation_cells.extend_from_slice(&row.entries);
                    observation_entries.push(observation_cells.len());
                }
            }
            debug_assert_eq!(observations.count, n_obs);
        }
        let observation_rows = ObservationRows {
            is_pomdp: header.is_pomdp(),
            n_states: n_states as usize,
            row_starts: &observation_entries,
            cells: &observation_cells,
        };
        let observation_row = |a: u32, end: u32| observation_rows.row(a, end);

        // One reward slot per (s, a, s', o) with T(s'|s,a) > 0 and O(o|s',a) > 0.
        let mut entry_slots = Vec::with_capacity(next.len() + 1);
        entry_slots.push(0usize);
        for s in 0..n_states {
            for a in 0..n_actions {
                let pair = s as usize * n_actions as usize + a as usize;
                for &end in &next[pair_entries[pair]..pair_entries[pair + 1]] {
                    let slots = observation_row(a, end).len();
                    let last = entry_slots.last().copied().unwrap_or(0);
                    entry_slots.push(last + slots);
                }
            }
        }
        let mut slots = vec![0.0f64; entry_slots.last().copied().unwrap_or(0)];

        // Apply the reward lines in file order: last write wins.
        for rule in &specs.rewards {
            let visited = rule
                .action
                .count(n_actions)
                .saturating_mul(rule.start.count(n_states));
            self.charge(visited, rule.line)?;
            for a in rule.action.range(n_actions) {
                for s in rule.start.range(n_states) {
                    let pair = s as usize * n_actions as usize + a as usize;
                    let (lo, hi) = (pair_entries[pair], pair_entries[pair + 1]);
                    let ends = picked_positions(&next[lo..hi], |&e| e, rule.end);
                    for j in (lo + ends.start)..(lo + ends.end) {
                        let end = next[j];
                        let row = observation_row(a, end);
                        let picked = picked_positions(row, |e| e.0, rule.observation);
                        self.charge(picked.len() as u64, rule.line)?;
                        for k in picked {
                            let o = row[k].0;
                            slots[entry_slots[j] + k] = rule.value(s, end, o, n_states, n_obs);
                        }
                    }
                }
            }
        }

        // Build: one outcome per nonzero T(s'|s,a) with r(s,a,s') = Σ_o O(o|s',a)·R(a,s,s',o).
        let mut builder = MdpBuilder::new();
        builder.options(ValidationOptions::with_tolerance(tolerance));
        let model_error =
            |line: u64, e| ReadError::new(self.path, Some(line), ReadErrorKind::Model(e));
        builder
            .declare_states(u64::from(n_states))
            .map_err(|e| model_error(end_line, e))?;
        builder
            .declare_actions(u64::from(n_actions))
            .map_err(|e| model_error(end_line, e))?;
        if let Some(names) = header.states.names.clone() {
            builder.state_names(names);
        }
        if let Some(names) = header.actions.names.clone() {
            builder.action_names(names);
        }
        MemoryGuard::new().check(self.path, Some(end_line), &builder, next.len() as u64)?;
        builder.reserve(next.len());
        for s in 0..n_states {
            for a in 0..n_actions {
                let pair = s as usize * n_actions as usize + a as usize;
                let line = pair_line[pair];
                for j in pair_entries[pair]..pair_entries[pair + 1] {
                    let end = next[j];
                    let row = observation_row(a, end);
                    let reward: f64 = row
                        .iter()
                        .enumerate()
                        .map(|(k, &(_, p))| p * slots[entry_slots[j] + k])
                        .sum();
                    builder
                        .add_at(
                            u64::from(s),
                            u64::from(a),
                            u64::from(end),
                            probability[j],
                            reward,
                            line,
                        )
                        .map_err(|e| model_error(line, e))?;
                }
            }
        }
        let (mdp, summary) = builder
            .build()
            .map_err(|e| ReadError::from_build(self.path, e))?;
        Ok(LoadedModel {
            mdp,
            summary,
            discount: Some(header.discount),
            sense: Some(header.sense),
            format: Format::Cassandra,
            later_stages: Vec::new(),
            bounds: None,
        })
    }
}
