//! (being written)
use crate::{LoadedModel, ReadError, ReadOptions};
use std::path::Path;

/// Reads a model file.
pub fn read(path: &Path, _options: &ReadOptions) -> Result<LoadedModel, ReadError> {
    Err(ReadError::new(path, None, crate::ReadErrorKind::Format("reader not written yet".into())))
}
