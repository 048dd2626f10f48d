//! The run protocol shared by every solver: limits in, a status, a certificate and a report
//! out, progress to an [`Observer`] that may stop the run, and an [`Interrupt`] flag.

use crate::ids::ActionId;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// When to stop, and with how many threads to work.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Stop when the certified policy gap is at most this (absolute, in value units).
    pub tolerance: f64,
    /// Stop after this many iterations (none: no limit; the certificate decides).
    pub max_iterations: Option<u64>,
    /// Stop after this much wall time.
    pub time_limit: Option<Duration>,
    /// Worker threads for parallel sweeps (1: sequential; 0: all cores).
    pub threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            tolerance: 1e-6,
            max_iterations: None,
            time_limit: None,
            threads: 0,
        }
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// The certificate proves the policy gap is within the tolerance (or the method is exact).
    Converged,
    /// The iteration limit set by the user was reached first.
    IterationLimit,
    /// The time limit was reached first.
    TimeLimit,
    /// The [`Interrupt`] flag was raised (Ctrl-C).
    Interrupted,
    /// The observer asked to stop.
    StoppedByObserver,
    /// The remaining gap is rounding error: double precision cannot certify the tolerance asked.
    PrecisionLimit,
    /// Total reward: a policy that never terminates from some states was met and values would
    /// grow without bound (the states are in [`Report::notes`]).
    ImproperPolicy,
    /// Average reward: the gain is not the same in every state (a multichain model).
    Multichain,
}

impl Status {
    /// The snake_case spelling used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::IterationLimit => "iteration_limit",
            Status::TimeLimit => "time_limit",
            Status::Interrupted => "interrupted",
            Status::StoppedByObserver => "stopped_by_observer",
            Status::PrecisionLimit => "precision_limit",
            Status::ImproperPolicy => "improper_policy",
            Status::Multichain => "multichain",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is proven about the returned values and policy.
///
/// For every state `lower[s] ≤ V*(s) ≤ upper[s]` (the per-state vectors live in
/// [`Solution`]); the returned policy's own value is within `policy_gap` of `V*` everywhere.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Certificate {
    /// Sup-norm Bellman residual `‖T V − V‖∞` of the last backup.
    pub residual: f64,
    /// Guaranteed `max_s |V*(s) − V^π(s)|` for the returned policy π.
    pub policy_gap: f64,
    /// Guaranteed `max_s |values(s) − V*(s)|`.
    pub value_error: f64,
    /// The part of the bounds that only covers floating-point rounding.
    pub rounding: f64,
}

/// One iteration as the observer sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Iteration {
    /// 1-based iteration number.
    pub index: u64,
    /// Largest change of the values in this iteration.
    pub max_change: f64,
    /// Certified policy gap after this iteration, when one was computed.
    pub policy_gap: Option<f64>,
    /// Actions that changed (policy iteration), when known.
    pub policy_changes: Option<u64>,
    /// Time since the start.
    pub elapsed: Duration,
}

/// Facts about a run, given to the observer at the start.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// Algorithm name.
    pub algorithm: &'static str,
    /// Number of states.
    pub n_states: usize,
    /// Number of stored transitions.
    pub n_transitions: usize,
    /// The tolerance asked for.
    pub tolerance: f64,
}

/// Whether the run should go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now with the best result so far.
    Stop,
}

/// Receives progress. Solvers never print; the CLI's progress bar is an observer.
pub trait Observer {
    /// Called once before the first iteration.
    fn on_start(&mut self, _info: &RunInfo) {}
    /// Called after every iteration; return [`Control::Stop`] to end the run.
    fn on_iteration(&mut self, _iteration: &Iteration) -> Control {
        Control::Continue
    }
    /// Called once with the final report.
    fn on_finish(&mut self, _report: &Report) {}
}

/// The observer that observes nothing.
impl Observer for () {}

/// A flag another thread (a signal handler) raises to stop a run with its best result.
/// The library never installs a handler itself.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A lowered flag.
    pub fn new() -> Self {
        Self::default()
    }
    /// Raises the flag.
    pub fn raise(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether the flag is raised.
    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What happened in a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Algorithm name.
    pub algorithm: &'static str,
    /// Why the run ended.
    pub status: Status,
    /// Iterations done (sweeps for value iteration, improvements for policy iteration).
    pub iterations: u64,
    /// Bellman backups and evaluation sweeps done in all.
    pub sweeps: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// What is proven about the result.
    pub certificate: Certificate,
    /// The tolerance asked for.
    pub tolerance: f64,
    /// The criterion solved (`discounted`, `total`, `finite`, `average`).
    pub criterion: &'static str,
    /// Findings worth telling the user (an improper starting policy, a multichain model, …).
    pub notes: Vec<String>,
}

impl Report {
    /// Whether the run met its tolerance.
    pub fn is_converged(&self) -> bool {
        self.status == Status::Converged
    }
}

/// Values, policy and certified bounds, with the report of how they were found.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// Estimate of `V*`: the midpoint of the certified bounds.
    pub values: Vec<f64>,
    /// One action per state (`None` for a terminal state).
    pub policy: Vec<Option<ActionId>>,
    /// Certified lower bound on `V*`, per state.
    pub lower: Vec<f64>,
    /// Certified upper bound on `V*`, per state.
    pub upper: Vec<f64>,
    /// How the run went.
    pub report: Report,
    /// Average reward: the optimal gain and its certified bounds.
    pub gain: Option<Gain>,
    /// Finite horizon: values and decisions for every stage.
    pub stages: Option<StagePlan>,
}

/// The long-run average reward per step, with bounds that provably contain the optimal gain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gain {
    /// Best estimate (midpoint of the bounds).
    pub value: f64,
    /// Certified lower bound on the optimal gain.
    pub lower: f64,
    /// Certified upper bound on the optimal gain.
    pub upper: f64,
}

/// A finite-horizon plan: `values[t][s]` is the optimal value with `T − t` decisions left,
/// `policy[t][s]` the decision to take at stage `t` (`t = 0..T`).
#[derive(Clone, Debug, PartialEq)]
pub struct StagePlan {
    /// Values at stages `0..T` (stage 0 first).
    pub values: Vec<Vec<f64>>,
    /// Decisions at stages `0..T`.
    pub policy: Vec<Vec<Option<ActionId>>>,
}
