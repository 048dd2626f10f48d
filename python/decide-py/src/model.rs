//! `NativeModel`: a validated [`TabularMdp`] with the discount and sense that came with it.
//! Built from edge arrays (what every Python constructor reduces to) or read from a file.

use crate::errors::{build_error, model_error, read_error, write_error};
use decide_core::{BuildSummary, MdpBuilder, Sense, StateId, TabularMdp, ValidationOptions};
use decide_io::{Format, LoadedModel, ReadOptions};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;

/// A validated model (the Python `decide.Model` wraps one).
#[pyclass(module = "decide._decide", frozen)]
pub struct NativeModel {
    pub(crate) mdp: TabularMdp,
    pub(crate) summary: BuildSummary,
    pub(crate) discount: Option<f64>,
    pub(crate) sense: Option<Sense>,
    pub(crate) format: Option<Format>,
}

/// Parses a sense spelling (`maximize`, `minimize`, `max`, `min`, `reward`, `cost`).
pub fn parse_sense(sense: &str) -> PyResult<Sense> {
    sense.parse::<Sense>().map_err(PyValueError::new_err)
}

fn slice<'a, T: numpy::Element>(
    name: &str,
    array: &'a PyReadonlyArray1<'_, T>,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| PyValueError::new_err(format!("{name} must be a contiguous 1-d array")))
}

/// Builds a model from parallel arrays of outcome rows. Ids must be non-negative (the Python
/// wrapper checks). The GIL is released while the rows are checked, merged and compiled.
#[pyfunction]
#[pyo3(signature = (
    state, action, next_state, probability, reward, *, n_states=None, n_actions=None,
    terminal=None, terminal_values=None, discount=None, sense=None,
    probability_tolerance=1e-9
))]
#[allow(clippy::too_many_arguments)]
pub fn from_edges(
    py: Python<'_>,
    state: PyReadonlyArray1<'_, u64>,
    action: PyReadonlyArray1<'_, u64>,
    next_state: PyReadonlyArray1<'_, u64>,
    probability: PyReadonlyArray1<'_, f64>,
    reward: PyReadonlyArray1<'_, f64>,
    n_states: Option<u64>,
    n_actions: Option<u64>,
    terminal: Option<PyReadonlyArray1<'_, u64>>,
    terminal_values: Option<PyReadonlyArray1<'_, f64>>,
    discount: Option<f64>,
    sense: Option<&str>,
    probability_tolerance: f64,
) -> PyResult<NativeModel> {
    let sense = sense.map(parse_sense).transpose()?;
    if !(probability_tolerance.is_finite() && probability_tolerance >= 0.0) {
        return Err(PyValueError::new_err(format!(
            "probability_tolerance must be a non-negative number, got {probability_tolerance}"
        )));
    }
    let s = slice("state", &state)?;
    let a = slice("action", &action)?;
    let n = slice("next_state", &next_state)?;
    let p = slice("probability", &probability)?;
    let r = slice("reward", &reward)?;
    let len = s.len();
    if [a.len(), n.len(), p.len(), r.len()]
        .iter()
        .any(|&l| l != len)
    {
        return Err(PyValueError::new_err(format!(
            "state, action, next_state, probability and reward must have the same length \
             (got {}, {}, {}, {}, {})",
            len,
            a.len(),
            n.len(),
            p.len(),
            r.len()
        )));
    }
    let t = terminal
        .as_ref()
        .map(|t| slice("terminal", t))
        .transpose()?;
    let tv = terminal_values
        .as_ref()
        .map(|t| slice("terminal_values", t))
        .transpose()?;
    if let (Some(t), Some(tv)) = (t, tv) {
        if t.len() != tv.len() {
            return Err(PyValueError::new_err(format!(
                "terminal_values must have one value per terminal state (got {} for {})",
                tv.len(),
                t.len()
            )));
        }
    } else if tv.is_some() {
        return Err(PyValueError::new_err(
            "terminal_values needs terminal (the states they belong to)",
        ));
    }
    enum Failure {
        Row(decide_core::ModelError, Option<u64>),
        Build(decide_core::BuildError),
    }
    let built = py.detach(|| {
        let mut b = MdpBuilder::new();
        b.options(ValidationOptions::with_tolerance(probability_tolerance));
        if let Some(ns) = n_states {
            b.declare_states(ns).map_err(|e| Failure::Row(e, None))?;
        }
        if let Some(na) = n_actions {
            b.declare_actions(na).map_err(|e| Failure::Row(e, None))?;
        }
        b.reserve(len);
        for i in 0..len {
            // Origins are 1-based (0 means "none"); errors report the 0-based row.
            b.add_at(s[i], a[i], n[i], p[i], r[i], i as u64 + 1)
                .map_err(|e| Failure::Row(e, Some(i as u64)))?;
        }
        if let Some(t) = t {
            for (j, &state) in t.iter().enumerate() {
                let value = tv.map_or(0.0, |tv| tv[j]);
                b.mark_terminal_with_value(state, value)
                    .map_err(|e| Failure::Row(e, None))?;
            }
        }
        b.build().map_err(Failure::Build)
    });
    let (mdp, summary) = match built {
        Ok(built) => built,
        Err(Failure::Row(e, row)) => return Err(model_error(py, &e, row)),
        Err(Failure::Build(e)) => return Err(build_error(py, &e)),
    };
    Ok(NativeModel {
        mdp,
        summary,
        discount,
        sense,
        format: None,
    })
}

/// Reads a model file (`.csv` with optional sidecar, `.json`, `.mdp`, `.pomdp`).
#[pyfunction]
#[pyo3(signature = (path, *, probability_tolerance=None))]
pub fn read(
    py: Python<'_>,
    path: PathBuf,
    probability_tolerance: Option<f64>,
) -> PyResult<NativeModel> {
    let options = ReadOptions {
        probability_tolerance,
        ..ReadOptions::default()
    };
    let loaded = py.detach(|| decide_io::read_model(&path, &options));
    match loaded {
        Ok(LoadedModel {
            mdp,
            summary,
            discount,
            sense,
            format,
            later_stages,
            bounds: _,
        }) if later_stages.is_empty() => Ok(NativeModel {
            mdp,
            summary,
            discount,
            sense,
            format: Some(format),
        }),
        Ok(staged) => Err(read_error(
            py,
            &decide_io::ReadError::new(
                &path,
                None,
                decide_io::ReadErrorKind::Format(format!(
                    "a stage-dependent model ({} stages) is not supported by the Python package yet; solve it with `decide solve`",
                    staged.later_stages.len() + 1
                )),
            ),
        )),
        Err(e) => Err(read_error(py, &e)),
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Csv => "csv",
        Format::Json => "json",
        Format::Cassandra => "cassandra",
        _ => "binary",
    }
}

#[pymethods]
impl NativeModel {
    /// Number of states.
    #[getter]
    fn n_states(&self) -> usize {
        self.mdp.n_states()
    }
    /// Number of action ids.
    #[getter]
    fn n_actions(&self) -> usize {
        self.mdp.n_actions()
    }
    /// Number of available (state, action) pairs.
    #[getter]
    fn n_pairs(&self) -> usize {
        self.mdp.n_pairs()
    }
    /// Number of stored outcomes after merging.
    #[getter]
    fn n_transitions(&self) -> usize {
        self.mdp.n_transitions()
    }
    /// The discount the model came with.
    #[getter]
    fn discount(&self) -> Option<f64> {
        self.discount
    }
    /// The sense the model came with.
    #[getter]
    fn sense(&self) -> Option<&'static str> {
        self.sense.map(Sense::as_str)
    }
    /// The file format it was read from (`None` when built in memory).
    #[getter]
    fn format(&self) -> Option<&'static str> {
        self.format.map(format_name)
    }
    /// Bytes held by the model's arrays.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.mdp.memory_bytes()
    }
    /// What the builder merged and checked, as a dict.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let s = &self.summary;
        d.set_item("rows", s.rows)?;
        d.set_item("merged_duplicates", s.merged_duplicates)?;
        d.set_item("duplicate_keys", s.duplicate_keys)?;
        d.set_item("mixed_reward_keys", s.mixed_reward_keys)?;
        d.set_item("zero_probability_outcomes", s.zero_probability_outcomes)?;
        d.set_item(
            "max_probability_sum_deviation",
            s.max_probability_sum_deviation,
        )?;
        Ok(d)
    }
    /// The terminal states, increasing.
    fn terminal_states<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        let t: Vec<u64> = (0..self.mdp.n_states())
            .filter(|&s| self.mdp.is_terminal(StateId(s as u32)))
            .map(|s| s as u64)
            .collect();
        PyArray1::from_vec(py, t)
    }
    /// The fixed value of each terminal state (same order as `terminal_states`).
    fn terminal_values<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let t: Vec<f64> = (0..self.mdp.n_states())
            .filter(|&s| self.mdp.is_terminal(StateId(s as u32)))
            .map(|s| self.mdp.terminal_value(s))
            .collect();
        PyArray1::from_vec(py, t)
    }
    /// The merged outcomes as arrays `(state, action, next_state, probability, reward)`,
    /// ordered by state, action, next state.
    #[allow(clippy::type_complexity)]
    fn edges<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<u64>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<f64>>,
    ) {
        let m = self.mdp.n_transitions();
        let (mut s, mut a, mut n, mut p, mut r) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        for state in 0..self.mdp.n_states() {
            for k in self.mdp.pairs(StateId(state as u32)) {
                let action = self.mdp.pair_action(k).0 as u64;
                for o in self.mdp.outcomes(k) {
                    s.push(state as u64);
                    a.push(action);
                    n.push(o.next.0 as u64);
                    p.push(o.probability);
                    r.push(o.reward);
                }
            }
        }
        (
            PyArray1::from_vec(py, s),
            PyArray1::from_vec(py, a),
            PyArray1::from_vec(py, n),
            PyArray1::from_vec(py, p),
            PyArray1::from_vec(py, r),
        )
    }
    /// Expected one-step reward `r(s, a)` as an `(n_states, n_actions)` array, NaN where the
    /// action is not available.
    fn expected_rewards<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        let (ns, na) = (self.mdp.n_states(), self.mdp.n_actions());
        let mut out = vec![f64::NAN; ns * na];
        for s in 0..ns {
            for k in self.mdp.pairs(StateId(s as u32)) {
                out[s * na + self.mdp.pair_action(k).0 as usize] = self.mdp.pair_reward(k);
            }
        }
        PyArray1::from_vec(py, out)
    }
    /// A copy with another discount and/or sense.
    #[pyo3(signature = (*, discount=None, sense=None))]
    fn with_objective(&self, discount: Option<f64>, sense: Option<&str>) -> PyResult<Self> {
        Ok(NativeModel {
            mdp: self.mdp.clone(),
            summary: self.summary.clone(),
            discount: discount.or(self.discount),
            sense: match sense {
                Some(s) => Some(parse_sense(s)?),
                None => self.sense,
            },
            format: self.format,
        })
    }
    /// Writes the model as a decide JSON document (atomically).
    fn write(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let is_json = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if !is_json {
            return Err(PyValueError::new_err(format!(
                "{}: decide writes models as JSON documents; use a .json path",
                path.display()
            )));
        }
        let (mdp, discount, sense) = (&self.mdp, self.discount, self.sense);
        if let Some(d) = discount {
            if !d.is_finite() {
                return Err(PyValueError::new_err(format!(
                    "discount {d} cannot be written as a JSON number"
                )));
            }
        }
        py.detach(|| {
            decide_io::atomic::write_atomically(&path, |w| {
                decide_io::json_model::write_to(w, mdp, discount, sense)
            })
        })
        .map_err(|e| write_error(&e))
    }
}
