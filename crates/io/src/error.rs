//! Read and write errors, with the file and line they concern.

use decide_core::{BuildError, ModelError};
use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong while reading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A field is not what its column requires.
    #[error("{column}: {found:?} is not {expected}")]
    Syntax {
        /// The column or field name.
        column: String,
        /// The text found (shortened when long).
        found: String,
        /// What was expected ("a non-negative integer", "a number").
        expected: &'static str,
    },
    /// The rows describe an invalid model.
    #[error("{0}")]
    Model(#[from] ModelError),
    /// The model is invalid because of one element of the document, named by its place in it
    /// (`transitions[12]`): in a JSON document printed on one line, the line alone does not
    /// say which element is wrong.
    #[error("{location}: {error}")]
    ModelAt {
        /// Where in the document, e.g. `transitions[12]` or `terminal[0]`.
        location: String,
        /// What is wrong.
        error: ModelError,
    },
    /// A violation of the format's own rules, in its own words.
    #[error("{0}")]
    Format(String),
    /// The file is not of a kind the command takes (no model extension, a policy file whose
    /// header names columns of another kind): a usage error rather than an invalid model.
    #[error("{0}")]
    Usage(String),
}

/// A read failure, displayed as `path:line: message` (`path: message` without a line).
#[derive(Debug)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line, when there is one.
    pub line: Option<u64>,
    /// What is wrong.
    pub kind: ReadErrorKind,
}

impl ReadError {
    /// A new error.
    pub fn new(path: &Path, line: Option<u64>, kind: ReadErrorKind) -> Self {
        ReadError {
            path: path.to_path_buf(),
            line,
            kind,
        }
    }

    /// Wraps a builder error, keeping the line of the row that caused it.
    pub fn from_build(path: &Path, error: BuildError) -> Self {
        ReadError::new(path, error.origin, ReadErrorKind::Model(error.error))
    }

    /// Whether the file itself could not be read (as opposed to a bad model in it).
    pub fn is_io(&self) -> bool {
        matches!(self.kind, ReadErrorKind::Io(_))
    }

    /// Whether the failure is the caller's choice of file rather than its content: it could
    /// not be read ([`is_io`](Self::is_io)), or it is not of a kind the command takes
    /// ([`ReadErrorKind::Usage`]).
    pub fn is_usage(&self) -> bool {
        matches!(self.kind, ReadErrorKind::Io(_) | ReadErrorKind::Usage(_))
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.kind),
            None => write!(f, "{}: {}", self.path.display(), self.kind),
        }
    }
}

/// No `source()`: the message already says everything, the I/O error included, and a caller
/// that prints the error chain (as `decide` does) would otherwise repeat it.
impl std::error::Error for ReadError {}

/// A write failure, displayed as `path: cause`.
#[derive(Debug)]
pub struct WriteError {
    /// The file that was being written.
    pub path: String,
    /// The cause.
    pub source: std::io::Error,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.source)
    }
}

/// No `source()`, for the same reason as [`ReadError`]: the message includes the cause.
impl std::error::Error for WriteError {}
