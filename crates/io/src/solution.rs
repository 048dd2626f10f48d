//! Solution JSON and policy CSV writers: what `decide solve --output` and `--policy-csv`
//! write. Both are atomic (see [`crate::atomic`]).
//!
//! The solution JSON is one object:
//!
//! ```json
//! {
//!   "values": [10.2, 8.0], "policy": [1, null], "lower": [10.1, 8.0], "upper": [10.3, 8.0],
//!   "report": {"algorithm": "value_iteration", "status": "converged", "converged": true,
//!              "iterations": 412, "sweeps": 412, "seconds": 0.003, "residual": 1e-9,
//!              "policy_gap": 2e-8, "value_error": 1e-8, "rounding": 1e-14, "tolerance": 1e-6},
//!   "model": {"path": "forest.csv", "states": 2, "discount": 0.95, "sense": "maximize"},
//!   "policy_names": ["cut", null], "state_names": ["young", "old"]
//! }
//! ```
//!
//! `policy` holds action ids, `null` for a terminal state. `policy_names` and `state_names`
//! appear only when the model names its actions or states. A number that is not finite
//! (an unbounded certificate) is written as `null`, since JSON has no infinity.

use crate::WriteError;
use crate::atomic::write_atomically;
use decide_core::{ActionId, Sense, Solution};
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// What the solution JSON says about the model besides the solution itself.
#[derive(Clone, Copy, Debug)]
pub struct SolutionContext<'a> {
    /// The model file as the user named it.
    pub model_path: &'a str,
    /// The discount solved with.
    pub discount: f64,
    /// The sense solved with.
    pub sense: Sense,
    /// The number of states; every per-state list of the solution must have this length.
    pub n_states: usize,
    /// The model's state names, if any.
    pub state_names: Option<&'a [String]>,
    /// The model's action names, if any.
    pub action_names: Option<&'a [String]>,
}

#[derive(Serialize)]
struct SolutionView<'a> {
    values: &'a [f64],
    policy: Vec<Option<u32>>,
    lower: &'a [f64],
    upper: &'a [f64],
    report: ReportView<'a>,
    model: ModelView<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_names: Option<Vec<Option<&'a str>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_names: Option<&'a [String]>,
    /// Average reward: `{value, lower, upper}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    gain: Option<GainView>,
    /// Finite horizon: values at stages `0..T`.
    #[serde(skip_serializing_if = "Option::is_none")]
    values_by_stage: Option<&'a [Vec<f64>]>,
    /// Finite horizon: decisions at stages `0..T`.
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_by_stage: Option<StagePolicies<'a>>,
}

/// The decisions of every stage, written as lists of action ids without a copy (a long
/// horizon's decisions can be most of the memory a solve uses).
struct StagePolicies<'a>(&'a [Vec<Option<ActionId>>]);

impl Serialize for StagePolicies<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|stage| StagePolicy(stage.as_slice())))
    }
}

struct StagePolicy<'a>(&'a [Option<ActionId>]);

impl Serialize for StagePolicy<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|a| a.map(|a| a.0)))
    }
}

#[derive(Serialize)]
struct GainView {
    value: f64,
    lower: f64,
    upper: f64,
}

#[derive(Serialize)]
struct ReportView<'a> {
    algorithm: &'a str,
    status: &'a str,
    converged: bool,
    iterations: u64,
    sweeps: u64,
    seconds: f64,
    residual: f64,
    policy_gap: f64,
    value_error: f64,
    rounding: f64,
    tolerance: f64,
    criterion: &'a str,
    notes: &'a [String],
}

#[derive(Serialize)]
struct ModelView<'a> {
    path: &'a str,
    states: usize,
    discount: f64,
    sense: &'a str,
}

/// The name of `action`, if the model names it.
fn action_name(action_names: &[String], action: Option<ActionId>) -> Option<&str> {
    action.and_then(|a| action_names.get(a.index()).map(String::as_str))
}

/// Fails when a per-state list of `solution` does not have `n_states` entries: a file that
/// silently disagrees with its model is worse than none.
fn check_lengths(solution: &Solution, n_states: usize) -> io::Result<()> {
    let lengths = [
        ("values", solution.values.len()),
        ("policy", solution.policy.len()),
        ("lower", solution.lower.len()),
        ("upper", solution.upper.len()),
    ];
    match lengths.iter().find(|(_, len)| *len != n_states) {
        Some((name, len)) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the solution's {name} has {len} entries but the model has {n_states} states"),
        )),
        None => Ok(()),
    }
}

/// Writes the solution JSON described in the module docs to `path`, atomically.
pub fn write_solution_json(
    path: &Path,
    solution: &Solution,
    context: &SolutionContext<'_>,
) -> Result<(), WriteError> {
    write_atomically(path, |w| write_solution_json_to(w, solution, context))
}

/// [`write_solution_json`] for a result that a [`Solution`] alone does not describe (a
/// randomised policy, a gain that differs by state): `amend` replaces or adds fields of the
/// document before it is written, atomically and once.
pub fn write_solution_json_amended(
    path: &Path,
    solution: &Solution,
    context: &SolutionContext<'_>,
    amend: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Result<(), WriteError> {
    write_atomically(path, |w| {
        let mut document =
            serde_json::to_value(solution_view(solution, context)?).map_err(io::Error::from)?;
        if let Some(fields) = document.as_object_mut() {
            amend(fields);
        }
        serde_json::to_writer(&mut *w, &document).map_err(io::Error::from)?;
        w.write_all(b"\n")
    })
}

/// Writes the solution JSON to `w` (one line, then a newline).
pub fn write_solution_json_to(
    w: &mut dyn Write,
    solution: &Solution,
    context: &SolutionContext<'_>,
) -> io::Result<()> {
    let view = solution_view(solution, context)?;
    serde_json::to_writer(&mut *w, &view).map_err(io::Error::from)?;
    w.write_all(b"\n")
}

/// The document of [`write_solution_json_to`], after checking the lengths of its lists.
fn solution_view<'a>(
    solution: &'a Solution,
    context: &'a SolutionContext<'a>,
) -> io::Result<SolutionView<'a>> {
    check_lengths(solution, context.n_states)?;
    let report = &solution.report;
    let certificate = &report.certificate;
    let view = SolutionView {
        values: &solution.values,
        policy: solution.policy.iter().map(|a| a.map(|a| a.0)).collect(),
        lower: &solution.lower,
        upper: &solution.upper,
        report: ReportView {
            algorithm: report.algorithm,
            status: report.status.as_str(),
            converged: report.is_converged(),
            iterations: report.iterations,
            sweeps: report.sweeps,
            seconds: report.elapsed.as_secs_f64(),
            residual: certificate.residual,
            policy_gap: certificate.policy_gap,
            value_error: certificate.value_error,
            rounding: certificate.rounding,
            tolerance: report.tolerance,
            criterion: report.criterion,
            notes: &report.notes,
        },
        model: ModelView {
            path: context.model_path,
            states: context.n_states,
            discount: context.discount,
            sense: context.sense.as_str(),
        },
        policy_names: context.action_names.map(|names| {
            solution
                .policy
                .iter()
                .map(|&action| action_name(names, action))
                .collect()
        }),
        state_names: context.state_names,
        gain: solution.gain.map(|g| GainView {
            value: g.value,
            lower: g.lower,
            upper: g.upper,
        }),
        values_by_stage: solution.stages.as_ref().map(|p| p.values.as_slice()),
        policy_by_stage: solution
            .stages
            .as_ref()
            .map(|p| StagePolicies(p.policy.as_slice())),
    };
    Ok(view)
}

/// Writes the policy as CSV to `path`, atomically: header `state,action` (plus
/// `action_name` when `action_names` is given), one row per state, the action left empty
/// for a terminal state.
pub fn write_policy_csv(
    path: &Path,
    solution: &Solution,
    action_names: Option<&[String]>,
) -> Result<(), WriteError> {
    write_atomically(path, |w| write_policy_csv_to(w, solution, action_names))
}

/// Writes the policy CSV to `w` (see [`write_policy_csv`]).
pub fn write_policy_csv_to(
    w: &mut dyn Write,
    solution: &Solution,
    action_names: Option<&[String]>,
) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(w);
    let into_io = |e: csv::Error| {
        let message = e.to_string();
        match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            _ => io::Error::other(message),
        }
    };
    match action_names {
        Some(_) => csv.write_record(["state", "action", "action_name"]),
        None => csv.write_record(["state", "action"]),
    }
    .map_err(into_io)?;
    // The csv writer quotes names that hold commas or quotes.
    for (state, &action) in solution.policy.iter().enumerate() {
        let state = state.to_string();
        let id = action.map(|a| a.0.to_string()).unwrap_or_default();
        match action_names {
            Some(names) => csv.write_record([
                state.as_str(),
                id.as_str(),
                action_name(names, action).unwrap_or(""),
            ]),
            None => csv.write_record([state.as_str(), id.as_str()]),
        }
        .map_err(into_io)?;
    }
    csv.flush()
}
