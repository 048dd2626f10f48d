//! Rust errors as Python exceptions. The exception classes live in the pure-Python module
//! `decide._errors` (so that they can subclass `ValueError` and carry keyword attributes);
//! this file builds their instances with the same message as the Rust `Display` and the ids
//! as attributes.

use decide_core::{BuildError, ModelError};
use decide_io::{ReadError, ReadErrorKind, WriteError};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An instance of `decide._errors.NAME(message, **attributes)` as a `PyErr`. Falls back to
/// a plain `ValueError` if the Python package cannot be imported (only when the native
/// module is used without its package).
fn python_error(py: Python<'_>, class: &str, message: String, attrs: &Bound<'_, PyDict>) -> PyErr {
    let made = py
        .import("decide._errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call((message.clone(),), Some(attrs)));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => PyValueError::new_err(message),
    }
}

/// The machine-readable name of a [`ModelError`] variant and the ids it names.
fn model_error_attrs(
    py: Python<'_>,
    error: &ModelError,
    attrs: &Bound<'_, PyDict>,
) -> PyResult<()> {
    let set = |key: &str, value: Py<PyAny>| attrs.set_item(key, value);
    let kind = match error {
        ModelError::ProbabilitySum {
            state, action, sum, ..
        } => {
            set("state", state.0.into_pyobject(py)?.into_any().unbind())?;
            set("action", action.0.into_pyobject(py)?.into_any().unbind())?;
            set("value", sum.into_pyobject(py)?.into_any().unbind())?;
            "probability_sum"
        }
        ModelError::ProbabilityOutOfRange {
            state,
            action,
            next,
            probability,
        } => {
            set("state", state.0.into_pyobject(py)?.into_any().unbind())?;
            set("action", action.0.into_pyobject(py)?.into_any().unbind())?;
            set("next_state", next.0.into_pyobject(py)?.into_any().unbind())?;
            set("value", probability.into_pyobject(py)?.into_any().unbind())?;
            "probability_out_of_range"
        }
        ModelError::NonFinite {
            state,
            action,
            value,
            field,
        } => {
            set("state", state.0.into_pyobject(py)?.into_any().unbind())?;
            set("action", action.0.into_pyobject(py)?.into_any().unbind())?;
            set("value", value.into_pyobject(py)?.into_any().unbind())?;
            set(
                "field",
                field.to_string().into_pyobject(py)?.into_any().unbind(),
            )?;
            "non_finite"
        }
        ModelError::NoActions { state } => {
            set("state", state.0.into_pyobject(py)?.into_any().unbind())?;
            "no_actions"
        }
        ModelError::StateOutOfRange { role, id, .. } => {
            let key = if *role == "next state" {
                "next_state"
            } else {
                "state"
            };
            set(key, id.into_pyobject(py)?.into_any().unbind())?;
            "state_out_of_range"
        }
        ModelError::ActionOutOfRange { id, .. } => {
            set("action", id.into_pyobject(py)?.into_any().unbind())?;
            "action_out_of_range"
        }
        ModelError::TooLarge { .. } => "too_large",
        ModelError::InvalidDiscount { discount } => {
            set("value", discount.into_pyobject(py)?.into_any().unbind())?;
            "invalid_discount"
        }
        ModelError::InvalidHorizonDiscount { discount } => {
            set("value", discount.into_pyobject(py)?.into_any().unbind())?;
            "invalid_discount"
        }
        ModelError::NonFiniteTerminalValue { state, value } => {
            set("state", state.0.into_pyobject(py)?.into_any().unbind())?;
            set("value", value.into_pyobject(py)?.into_any().unbind())?;
            "non_finite_terminal_value"
        }
        ModelError::Empty => "empty",
        _ => "other",
    };
    attrs.set_item("kind", kind)
}

/// `decide.ModelError` for a model that breaks the semantics; `row` is the 0-based index of
/// the first input row of the offending (state, action), when known.
pub fn model_error(py: Python<'_>, error: &ModelError, row: Option<u64>) -> PyErr {
    let attrs = PyDict::new(py);
    if let Err(e) = model_error_attrs(py, error, &attrs) {
        return e;
    }
    if let Some(row) = row {
        if let Err(e) = attrs.set_item("row", row) {
            return e;
        }
    }
    python_error(py, "ModelError", error.to_string(), &attrs)
}

/// A builder error, whose origin is a 1-based row number given by `add_at`.
pub fn build_error(py: Python<'_>, error: &BuildError) -> PyErr {
    model_error(py, &error.error, error.origin.map(|o| o - 1))
}

/// `decide.ReadError` (or an `OSError` subclass such as `FileNotFoundError` when the file
/// itself cannot be read) with the message `path:line: what`.
pub fn read_error(py: Python<'_>, error: &ReadError) -> PyErr {
    let path = error.path.display().to_string();
    if let ReadErrorKind::Io(io) = &error.kind {
        // OSError(errno, strerror, filename) picks the subclass (FileNotFoundError, ...).
        let made = io
            .raw_os_error()
            .map(|errno| {
                py.get_type::<PyOSError>()
                    .call1((errno, io.to_string(), path.clone()))
            })
            .unwrap_or_else(|| py.get_type::<PyOSError>().call1((format!("{path}: {io}"),)));
        return match made {
            Ok(instance) => PyErr::from_value(instance),
            Err(e) => e,
        };
    }
    let attrs = PyDict::new(py);
    let filled = (|| -> PyResult<()> {
        attrs.set_item("path", &path)?;
        attrs.set_item("line", error.line)?;
        match &error.kind {
            ReadErrorKind::Model(e) => {
                model_error_attrs(py, e, &attrs)?;
            }
            ReadErrorKind::ModelAt { location, error } => {
                model_error_attrs(py, error, &attrs)?;
                attrs.set_item("location", location)?;
            }
            ReadErrorKind::Syntax { column, .. } => {
                attrs.set_item("kind", "syntax")?;
                attrs.set_item("column", column)?;
            }
            _ => attrs.set_item("kind", "format")?,
        }
        Ok(())
    })();
    if let Err(e) = filled {
        return e;
    }
    python_error(py, "ReadError", error.to_string(), &attrs)
}

/// An `OSError` naming the file that could not be written.
pub fn write_error(error: &WriteError) -> PyErr {
    PyOSError::new_err(error.to_string())
}

/// `decide.SolveError` for a run that produced no meaningful answer.
pub fn solve_error(py: Python<'_>, error: &decide_solve::SolveError) -> PyErr {
    let made = py
        .import("decide._errors")
        .and_then(|m| m.getattr("SolveError"))
        .and_then(|cls| cls.call1((error.to_string(),)));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => PyRuntimeError::new_err(error.to_string()),
    }
}
