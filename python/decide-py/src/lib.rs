//! The native half of the `decide` Python package (`decide._decide`): validated models built
//! from edge arrays or files, and solves that release the GIL, report progress to a Python
//! callable and stop cleanly on Ctrl-C. The public API (`decide.Model`, `decide.compat`) is
//! the pure-Python package in `python/decide/`, which wraps this module.

mod errors;
mod model;
mod solve;

use pyo3::prelude::*;

/// The native module `decide._decide`.
#[pymodule]
fn _decide(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<model::NativeModel>()?;
    m.add_class::<solve::Solution>()?;
    m.add_class::<solve::Report>()?;
    m.add_class::<solve::Iteration>()?;
    m.add_class::<solve::Gain>()?;
    m.add_function(wrap_pyfunction!(model::from_edges, m)?)?;
    m.add_function(wrap_pyfunction!(model::read, m)?)?;
    m.add_function(wrap_pyfunction!(solve::solve, m)?)?;
    Ok(())
}
