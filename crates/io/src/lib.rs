//! Readers and writers for decide's model formats and results.
//!
//! | format | extension | read | write |
//! |---|---|---|---|
//! | CSV long form (+ sidecar `NAME.meta.json`) | `.csv` | [`csv_model`] | — |
//! | JSON model | `.json` | [`json_model`] | [`json_model::write`] |
//! | Cassandra MDP / POMDP (as its underlying MDP) | `.mdp`, `.pomdp` (any case) | [`cassandra`] | — |
//! | solution JSON, policy CSV | — | — | [`solution`] |
//!
//! Every reader streams or reads once, never panics on input, and reports errors as
//! `FILE:LINE: state sN, action aM: what is wrong` through [`ReadError`].
//! Every writer goes through [`atomic::write_atomically`]: a temporary file in the target's
//! folder, renamed into place only when complete.

pub mod atomic;
pub mod cassandra;
pub mod csv_model;
pub mod error;
pub mod json_model;
pub mod solution;

pub use error::{ReadError, ReadErrorKind, WriteError};

use decide_core::{BuildSummary, Sense, TabularMdp};
use std::path::Path;

/// The file formats decide reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `state,action,next_state,probability,reward` rows.
    Csv,
    /// decide's JSON model document.
    Json,
    /// Cassandra's `.MDP`/`.POMDP` text format.
    Cassandra,
}

impl Format {
    /// The format a path's extension names, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "mdp" | "pomdp" => Some(Format::Cassandra),
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
}

/// Reads a model, choosing the reader by extension (`.csv`, `.json`, `.mdp`, `.pomdp`).
pub fn read_model(path: &Path, options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    match Format::from_path(path) {
        Some(Format::Csv) => csv_model::read(path, options),
        Some(Format::Json) => json_model::read(path, options),
        Some(Format::Cassandra) => cassandra::read(path, options),
        None => Err(ReadError::new(
            path,
            None,
            ReadErrorKind::Format(
                "unknown model format: expected extension .csv, .json, .mdp or .pomdp".into(),
            ),
        )),
    }
}
