//! Solving from Python: the run happens on a worker thread with the GIL released while the
//! calling thread waits, waking every few milliseconds to let Python look at its signals. A
//! Ctrl-C (KeyboardInterrupt) raises the run's [`Interrupt`], and the run ends after its
//! current iteration with its best values and their certificate (status `interrupted`).

use crate::errors::{model_error, solve_error};
use crate::model::{NativeModel, parse_sense};
use decide_core::{
    Control, Criterion, Interrupt, Iteration as CoreIteration, Limits, Objective, Observer,
    Solution as CoreSolution,
};
use decide_solve::{Algorithm, Problem};
use numpy::{PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// How often the waiting thread looks at Python's signals.
const SIGNAL_POLL: Duration = Duration::from_millis(20);

/// How a run went and what its certificate proves.
#[pyclass(module = "decide", frozen, get_all)]
pub struct Report {
    /// The algorithm that ran (`policy_iteration`, `value_iteration`, ...).
    pub algorithm: String,
    /// Why it ended: `converged`, `iteration_limit`, `time_limit`, `interrupted`,
    /// `stopped_by_observer` or `precision_limit`.
    pub status: String,
    /// Whether the certified policy gap is within the tolerance asked for.
    pub converged: bool,
    /// Iterations done.
    pub iterations: u64,
    /// Bellman backups and evaluation sweeps done in all.
    pub sweeps: u64,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Sup-norm Bellman residual of the last backup.
    pub residual: f64,
    /// Guaranteed `max_s |V*(s) - V^pi(s)|` of the returned policy.
    pub policy_gap: f64,
    /// Guaranteed `max_s |values(s) - V*(s)|`.
    pub value_error: f64,
    /// The part of the bounds that covers floating-point rounding.
    pub rounding: f64,
    /// The tolerance asked for.
    pub tolerance: f64,
    /// The criterion solved: `discounted`, `total`, `finite` or `average`.
    pub criterion: String,
    /// Findings worth telling (an improper policy, a multichain model, ...).
    pub notes: Vec<String>,
}

#[pymethods]
impl Report {
    /// The report as a dict (the `report` object of `decide solve --output`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("algorithm", &self.algorithm)?;
        d.set_item("status", &self.status)?;
        d.set_item("converged", self.converged)?;
        d.set_item("iterations", self.iterations)?;
        d.set_item("sweeps", self.sweeps)?;
        d.set_item("seconds", self.seconds)?;
        d.set_item("residual", self.residual)?;
        d.set_item("policy_gap", self.policy_gap)?;
        d.set_item("value_error", self.value_error)?;
        d.set_item("rounding", self.rounding)?;
        d.set_item("tolerance", self.tolerance)?;
        d.set_item("criterion", &self.criterion)?;
        d.set_item("notes", self.notes.clone())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(algorithm={:?}, status={:?}, iterations={}, seconds={:.3e}, policy_gap={:.3e}, value_error={:.3e})",
            self.algorithm,
            self.status,
            self.iterations,
            self.seconds,
            self.policy_gap,
            self.value_error
        )
    }
}

/// Optimal values, a policy and certified bounds, with the report of the run.
#[pyclass(module = "decide", frozen, get_all)]
pub struct Solution {
    /// Estimate of `V*` per state (midpoint of `lower` and `upper`), float64.
    pub values: Py<PyArray1<f64>>,
    /// One action per state, int64; `-1` for a terminal state.
    pub policy: Py<PyArray1<i64>>,
    /// Certified lower bound on `V*` per state.
    pub lower: Py<PyArray1<f64>>,
    /// Certified upper bound on `V*` per state.
    pub upper: Py<PyArray1<f64>>,
    /// How the run went.
    pub report: Py<Report>,
    /// Average reward: the optimal gain with its certified bounds (`None` otherwise).
    pub gain: Option<Py<Gain>>,
    /// Finite horizon: `stage_values[t, s]`, the optimal value with `T - t` decisions left
    /// (`None` otherwise).
    pub stage_values: Option<Py<PyArray2<f64>>>,
    /// Finite horizon: `stage_policy[t, s]`, the decision at stage `t` (`-1` where none).
    pub stage_policy: Option<Py<PyArray2<i64>>>,
}

/// The long-run average reward per step, with certified bounds on the optimal gain.
#[pyclass(module = "decide", frozen, get_all)]
pub struct Gain {
    /// Best estimate (midpoint of the bounds).
    pub value: f64,
    /// Certified lower bound.
    pub lower: f64,
    /// Certified upper bound.
    pub upper: f64,
}

#[pymethods]
impl Gain {
    fn __repr__(&self) -> String {
        format!(
            "Gain(value={}, lower={}, upper={})",
            self.value, self.lower, self.upper
        )
    }
    fn __float__(&self) -> f64 {
        self.value
    }
}

#[pymethods]
impl Solution {
    /// Shortcut for `report.status`.
    #[getter]
    fn status(&self) -> String {
        self.report.get().status.clone()
    }
    /// Shortcut for `report.converged`.
    #[getter]
    fn converged(&self) -> bool {
        self.report.get().converged
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let n = self.values.bind(py).len().unwrap_or(0);
        format!("Solution(states={n}, {})", self.report.get().__repr__())
    }
}

/// One iteration as a `progress` callback sees it.
#[pyclass(module = "decide", frozen, get_all)]
pub struct Iteration {
    /// 1-based iteration number.
    pub index: u64,
    /// Largest change of the values in this iteration.
    pub max_change: f64,
    /// Certified policy gap after this iteration, when one was computed.
    pub policy_gap: Option<f64>,
    /// Actions changed in this iteration (policy iteration), when known.
    pub policy_changes: Option<u64>,
    /// Seconds since the start of the run.
    pub seconds: f64,
}

#[pymethods]
impl Iteration {
    fn __repr__(&self) -> String {
        format!(
            "Iteration(index={}, max_change={:.3e}, policy_gap={}, seconds={:.3})",
            self.index,
            self.max_change,
            self.policy_gap
                .map_or_else(|| "None".to_string(), |g| format!("{g:.3e}")),
            self.seconds
        )
    }
}

/// Calls the Python `progress` callable after each iteration. A return value of `False`
/// stops the run; an exception stops it too and is raised by `solve` afterwards.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    error: Option<PyErr>,
}

impl Observer for PyObserver {
    fn on_iteration(&mut self, it: &CoreIteration) -> Control {
        let Some(callback) = &self.callback else {
            return Control::Continue;
        };
        Python::attach(|py| {
            let info = Iteration {
                index: it.index,
                max_change: it.max_change,
                policy_gap: it.policy_gap,
                policy_changes: it.policy_changes,
                seconds: it.elapsed.as_secs_f64(),
            };
            match callback.call1(py, (info,)) {
                Ok(result) => {
                    let result = result.bind(py);
                    let stop = result.is_instance_of::<PyBool>()
                        && result.extract::<bool>().is_ok_and(|keep_going| !keep_going);
                    if stop {
                        Control::Stop
                    } else {
                        Control::Continue
                    }
                }
                Err(e) => {
                    self.error = Some(e);
                    Control::Stop
                }
            }
        })
    }
}

/// Completion flag the solving thread sets and the waiting thread sleeps on.
struct Done {
    flag: Mutex<bool>,
    wake: Condvar,
}

impl Done {
    fn set(&self) {
        *self.flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.wake.notify_all();
    }
    /// Waits up to `timeout`; whether the run has finished.
    fn wait(&self, timeout: Duration) -> bool {
        let guard = self.flag.lock().unwrap_or_else(|p| p.into_inner());
        if *guard {
            return true;
        }
        let (guard, _) = self
            .wake
            .wait_timeout(guard, timeout)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

/// Sets the flag when dropped, so the waiting thread also wakes if the solver panics.
struct SetOnDrop<'a>(&'a Done);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// Runs `body` on a worker thread with the GIL released; the calling thread waits, checking
/// Python's signals every [`SIGNAL_POLL`]. A KeyboardInterrupt raises the [`Interrupt`] the
/// body was given, and the body's (best so far) result is returned; an exception raised by the
/// `progress` callable, or by a signal handler other than Ctrl-C's, is raised instead.
fn run_with_signals<F>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    body: F,
) -> PyResult<Result<CoreSolution, decide_solve::SolveError>>
where
    F: FnOnce(
            &mut (dyn Observer + Send),
            &Interrupt,
        ) -> Result<CoreSolution, decide_solve::SolveError>
        + Send,
{
    let mut observer = PyObserver {
        callback: progress,
        error: None,
    };
    let interrupt = Interrupt::new();
    let done = Done {
        flag: Mutex::new(false),
        wake: Condvar::new(),
    };
    let mut signal: Option<PyErr> = None;
    let outcome = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let _done = SetOnDrop(&done);
            body(&mut observer, &interrupt)
        });
        loop {
            if py.detach(|| done.wait(SIGNAL_POLL)) {
                break;
            }
            if signal.is_none() {
                if let Err(e) = py.check_signals() {
                    interrupt.raise();
                    signal = Some(e);
                }
            }
        }
        // Joined without the GIL: the worker may be waiting for it in the progress callback.
        py.detach(|| worker.join())
    });
    let result = match outcome {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let Some(e) = observer.error.take() {
        return Err(e);
    }
    if let Some(e) = signal {
        // Ctrl-C is answered by the best result so far (status `interrupted`); any other
        // exception a signal handler raised is the caller's to see.
        if !e.is_instance_of::<PyKeyboardInterrupt>(py) || result.is_err() {
            return Err(e);
        }
    }
    Ok(result)
}

fn to_python(py: Python<'_>, solution: CoreSolution) -> PyResult<Solution> {
    let report = &solution.report;
    let cert = &report.certificate;
    let report = Report {
        algorithm: report.algorithm.to_string(),
        status: report.status.as_str().to_string(),
        converged: report.is_converged(),
        iterations: report.iterations,
        sweeps: report.sweeps,
        seconds: report.elapsed.as_secs_f64(),
        residual: cert.residual,
        policy_gap: cert.policy_gap,
        value_error: cert.value_error,
        rounding: cert.rounding,
        tolerance: report.tolerance,
        criterion: report.criterion.to_string(),
        notes: report.notes.clone(),
    };
    let action = |a: &Option<decide_core::ActionId>| a.map_or(-1, |a| a.0 as i64);
    let policy: Vec<i64> = solution.policy.iter().map(action).collect();
    let gain = match solution.gain {
        Some(g) => Some(Py::new(
            py,
            Gain {
                value: g.value,
                lower: g.lower,
                upper: g.upper,
            },
        )?),
        None => None,
    };
    let (stage_values, stage_policy) = match &solution.stages {
        Some(plan) => {
            let n = solution.values.len();
            let values = if plan.values.is_empty() {
                PyArray2::zeros(py, [0, n], false)
            } else {
                PyArray2::from_vec2(py, &plan.values)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?
            };
            let decisions: Vec<Vec<i64>> = plan
                .policy
                .iter()
                .map(|stage| stage.iter().map(action).collect())
                .collect();
            let decisions = if decisions.is_empty() {
                PyArray2::zeros(py, [0, n], false)
            } else {
                PyArray2::from_vec2(py, &decisions)
                    .map_err(|e| PyValueError::new_err(e.to_string()))?
            };
            (Some(values.unbind()), Some(decisions.unbind()))
        }
        None => (None, None),
    };
    Ok(Solution {
        values: PyArray1::from_vec(py, solution.values).unbind(),
        policy: PyArray1::from_vec(py, policy).unbind(),
        lower: PyArray1::from_vec(py, solution.lower).unbind(),
        upper: PyArray1::from_vec(py, solution.upper).unbind(),
        report: Py::new(py, report)?,
        gain,
        stage_values,
        stage_policy,
    })
}

/// Solves `model` (see `decide.Model.solve` for the parameters).
#[pyfunction]
#[pyo3(signature = (
    model, *, algorithm="auto", criterion="discounted", discount=None, horizon=None,
    final_values=None, sense=None, tolerance=1e-6, max_iterations=None, time_limit=None,
    threads=0, progress=None
))]
#[allow(clippy::too_many_arguments)]
pub fn solve(
    py: Python<'_>,
    model: &NativeModel,
    algorithm: &str,
    criterion: &str,
    discount: Option<f64>,
    horizon: Option<u32>,
    final_values: Option<PyReadonlyArray1<'_, f64>>,
    sense: Option<&str>,
    tolerance: f64,
    max_iterations: Option<u64>,
    time_limit: Option<f64>,
    threads: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Solution> {
    let algorithm: Algorithm = algorithm.parse().map_err(PyValueError::new_err)?;
    if !(tolerance.is_finite() && tolerance >= 0.0) {
        return Err(PyValueError::new_err(format!(
            "tolerance must be a non-negative number, got {tolerance}"
        )));
    }
    let time_limit = match time_limit {
        None => None,
        // A limit too large for a Duration (1e300 seconds) is no limit, not a panic.
        Some(t) if t.is_finite() && t >= 0.0 => Duration::try_from_secs_f64(t).ok(),
        Some(t) => {
            return Err(PyValueError::new_err(format!(
                "time_limit must be a non-negative number of seconds, got {t}"
            )));
        }
    };
    let sense = match sense {
        Some(s) => parse_sense(s)?,
        None => model.sense.unwrap_or_default(),
    };
    let criterion_name = criterion.to_ascii_lowercase().replace(['-', '_'], "");
    if horizon.is_some() && !matches!(criterion_name.as_str(), "finite" | "finitehorizon") {
        return Err(PyValueError::new_err(
            "horizon is given but the criterion is not \"finite\"",
        ));
    }
    let objective = match criterion_name.as_str() {
        "discounted" => {
            let Some(discount) = discount.or(model.discount) else {
                return Err(PyValueError::new_err(
                    "the model gives no discount; pass discount=G with 0 <= G < 1",
                ));
            };
            Objective::discounted(sense, discount).map_err(|e| model_error(py, &e, None))?
        }
        "total" => Objective::total(sense),
        "average" => Objective::average(sense),
        "finite" | "finitehorizon" => {
            let Some(horizon) = horizon else {
                return Err(PyValueError::new_err(
                    "the finite criterion needs horizon=T (the number of decisions)",
                ));
            };
            let discount = discount.or(model.discount).unwrap_or(1.0);
            Objective::finite_horizon(sense, horizon, discount)
                .map_err(|e| model_error(py, &e, None))?
        }
        _ => {
            return Err(PyValueError::new_err(format!(
                "unknown criterion {criterion:?} (expected discounted, total, finite or average)"
            )));
        }
    };
    let final_values = match &final_values {
        Some(v) => {
            let Criterion::FiniteHorizon { .. } = objective.criterion else {
                return Err(PyValueError::new_err(
                    "final_values is given but the criterion is not \"finite\"",
                ));
            };
            let v = v.as_slice().map_err(|_| {
                PyValueError::new_err("final_values must be a contiguous 1-d array")
            })?;
            if v.len() != model.mdp.n_states() {
                return Err(PyValueError::new_err(format!(
                    "final_values has {} entries for {} states",
                    v.len(),
                    model.mdp.n_states()
                )));
            }
            Some(v)
        }
        None => None,
    };
    if !algorithm.supports(&objective.criterion) {
        // A wrong argument, as on the command line (exit 2 there): ValueError.
        let criterion = objective.criterion.as_str();
        return Err(PyValueError::new_err(format!(
            "algorithm {:?} does not solve the {criterion} criterion; criterion={criterion:?} takes algorithm {}",
            algorithm.as_str(),
            Algorithm::supported_for(criterion)
        )));
    }
    let limits = Limits {
        tolerance,
        max_iterations,
        time_limit,
        threads,
    };
    let mdp = &model.mdp;
    let problem = Problem::new(mdp, objective);
    let result = run_with_signals(py, progress, |observer, interrupt| {
        match (objective.criterion, final_values) {
            (Criterion::FiniteHorizon { horizon, discount }, Some(final_values)) => {
                if algorithm != Algorithm::Auto {
                    return Err(decide_solve::SolveError::UnsupportedCriterion {
                        algorithm: algorithm.as_str(),
                        criterion: "finite",
                    });
                }
                decide_solve::finite::backward_induction(
                    &[mdp],
                    horizon,
                    discount,
                    sense,
                    Some(final_values),
                    observer,
                )
            }
            _ => decide_solve::solve_with(&problem, algorithm, &limits, observer, interrupt),
        }
    })?;
    let solution = result.map_err(|e| solve_error(py, &e))?;
    to_python(py, solution)
}
