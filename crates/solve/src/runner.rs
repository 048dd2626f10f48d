//! The only loop: limits, timing, interruption, observer, certificate. Solvers do the maths
//! one step at a time (argmin's executor/solver split).

use crate::Algorithm;
use crate::bellman::NO_PAIR;
use crate::certificate::{BackupStats, Bounds, bounds};
use decide_core::{
    ActionId, Control, Interrupt, Iteration, Limits, Objective, Observer, Report, RunInfo, Sense,
    Solution, StateId, Status, TabularMdp,
};
use std::time::Instant;

/// A model with its objective: what every solver is given.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'a> {
    /// The model.
    pub model: &'a TabularMdp,
    /// Sense and criterion.
    pub objective: Objective,
    /// `max |r(s,a)|`, cached for the rounding allowance of the certificate.
    pub max_abs_reward: f64,
}

impl<'a> Problem<'a> {
    /// Pairs a model with an objective.
    pub fn new(model: &'a TabularMdp, objective: Objective) -> Self {
        let max_abs_reward = model
            .csr()
            .pair_reward
            .iter()
            .fold(0.0f64, |m, r| m.max(r.abs()));
        Problem {
            model,
            objective,
            max_abs_reward,
        }
    }
    /// The discount factor.
    pub fn discount(&self) -> f64 {
        self.objective.discount()
    }
    /// Maximise or minimise.
    pub fn sense(&self) -> Sense {
        self.objective.sense
    }
    /// The certified bounds of a backup on this problem.
    pub fn bounds(&self, stats: &BackupStats) -> Bounds {
        bounds(
            stats,
            self.discount(),
            self.model.max_outcomes(),
            self.max_abs_reward,
        )
    }
}

/// Failures that leave no meaningful answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// Values overflowed or became NaN (rewards too large for `f64` at this discount).
    #[error(
        "values are no longer finite numbers after {iterations} iterations (rewards too large for this discount?)"
    )]
    NonFinite {
        /// Iterations done when it was detected.
        iterations: u64,
    },
    /// Total reward: from these states no policy ever reaches a terminal state.
    #[error(
        "no policy reaches a terminal state from {count} states ({states}); the total reward is undefined there: mark terminal states, or use --criterion discounted or average"
    )]
    NoProperPolicy {
        /// The first few states, for the message.
        states: String,
        /// How many states.
        count: usize,
    },
    /// A given policy names an action the state does not have.
    #[error("state {state}: the policy's action {action} is not available there")]
    UnavailableAction {
        /// The state.
        state: decide_core::StateId,
        /// The action.
        action: ActionId,
    },
    /// The algorithm does not solve this criterion.
    #[error(
        "algorithm {algorithm} does not solve the {criterion} criterion (it takes {})",
        Algorithm::supported_for(criterion)
    )]
    UnsupportedCriterion {
        /// The algorithm.
        algorithm: &'static str,
        /// The criterion.
        criterion: &'static str,
    },
    /// Finite horizon: the number of stage models must be 1 or the horizon.
    #[error("{given} stage models given for horizon {horizon} (expected 1 or {horizon})")]
    StageCount {
        /// Models given.
        given: usize,
        /// The horizon.
        horizon: u32,
    },
    /// Finite horizon: every stage model must have the same states.
    #[error("stage {stage} has {states} states, stage 0 has {expected}")]
    StageStates {
        /// The stage.
        stage: usize,
        /// Its state count.
        states: usize,
        /// Stage 0's.
        expected: usize,
    },
    /// The observer stopped a method that has no meaningful partial answer.
    #[error("stopped before a complete answer")]
    Stopped,
    /// `--algorithm lp` in a build without the `lp` cargo feature (HiGHS).
    #[error(
        "linear programming is not available: this build of decide has no `lp` feature (HiGHS); use another algorithm, or rebuild with `--features lp` (needs cmake and libclang-dev)"
    )]
    LinearProgrammingUnavailable,
    /// HiGHS did not solve the linear program.
    #[error("the linear program was not solved: HiGHS reports {status}")]
    LinearProgram {
        /// HiGHS's status, in words.
        status: String,
    },
    /// A model held with `f32` probabilities could not be certified: its exact outcomes could
    /// not be read back, or they are not the ones the model was loaded from.
    #[error("exact probabilities for the certificate: {0}")]
    ExactOutcomes(String),
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Threads asked for.
        threads: usize,
        /// The system's reason.
        message: String,
    },
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sweep {
    /// Statistics of the Bellman backup that produced [`Current`], when this step made one.
    /// `None` means the values moved without a fresh certificate (Gauss–Seidel sweeps).
    pub stats: Option<BackupStats>,
    /// The method has reached its exact fixed point (policy iteration: stable policy after an
    /// exact evaluation).
    pub exact: bool,
    /// Largest change of the values in this step.
    pub max_change: f64,
    /// Sweeps over the model done in this step (backups and evaluation sweeps).
    pub sweeps: u64,
    /// Actions changed by this step, where the method tracks it.
    pub policy_changes: Option<u64>,
}

/// The latest certified backup of a solver: `backup = T V` and the policy greedy for `V`.
#[derive(Clone, Copy, Debug)]
pub struct Current<'a> {
    /// `T V`.
    pub backup: &'a [f64],
    /// Greedy pair index per state ([`NO_PAIR`] for terminal states).
    pub policy: &'a [usize],
}

/// One algorithm, as a sequence of steps. Implementations do no loop control, no printing
/// and no limit handling.
pub trait Solver: Send {
    /// Name used in reports.
    fn name(&self) -> &'static str;
    /// Allocates and initialises.
    fn start(&mut self, problem: &Problem<'_>, limits: &Limits) -> Result<(), SolveError>;
    /// One iteration.
    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError>;
    /// Makes [`current`](Self::current) a fresh backup of the present values and returns its
    /// statistics (used when a run stops on a step without a certificate).
    fn certify(&mut self, problem: &Problem<'_>) -> BackupStats;
    /// The latest certified backup.
    fn current(&self) -> Current<'_>;
}

/// Solves with the given algorithm, no observer and no interrupt.
pub fn solve(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    limits: &Limits,
) -> Result<Solution, SolveError> {
    solve_with(problem, algorithm, limits, &mut (), &Interrupt::new())
}

/// Solves `problem` under its criterion with the chosen algorithm: the entry point the CLI and
/// the Python package use. Discounted problems go through the [`Solver`] loop; the other
/// criteria have their own (see [`crate::total`], [`crate::finite`], [`crate::average`]).
pub fn solve_with(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<Solution, SolveError> {
    if !algorithm.supports(&problem.objective.criterion) {
        return Err(SolveError::UnsupportedCriterion {
            algorithm: algorithm.as_str(),
            criterion: problem.objective.criterion.as_str(),
        });
    }
    let pool = thread_pool(limits)?;
    pool.install(|| match problem.objective.criterion {
        decide_core::Criterion::Discounted { .. } => {
            let mut solver = algorithm.solver(problem.model);
            run_loop(problem, solver.as_mut(), limits, observer, interrupt)
        }
        decide_core::Criterion::Total => {
            crate::total::solve_total(problem, algorithm, limits, observer, interrupt, None)
        }
        decide_core::Criterion::FiniteHorizon { .. } => {
            crate::finite::solve_finite(problem, algorithm, observer)
        }
        decide_core::Criterion::Average => {
            crate::average::solve_average(problem, algorithm, limits, observer, interrupt)
        }
    })
}

/// The most worker threads a run accepts: far above any machine's cores, low enough that a
/// typo (`--threads 100000`) is refused instead of starting a hundred thousand threads.
pub const MAX_THREADS: usize = 1024;

/// The worker pool a run uses (`limits.threads`, 0 = all cores).
pub(crate) fn thread_pool(limits: &Limits) -> Result<rayon::ThreadPool, SolveError> {
    if limits.threads > MAX_THREADS {
        return Err(SolveError::Threads {
            threads: limits.threads,
            message: format!("at most {MAX_THREADS} worker threads are allowed"),
        });
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(limits.threads)
        .build()
        .map_err(|e| SolveError::Threads {
            threads: limits.threads,
            message: e.to_string(),
        })
}

/// The stops every solver loop checks after its own (convergence, precision), in this order:
/// the observer asked to stop, an interrupt (Ctrl-C, SIGTERM), the time limit, the iteration
/// limit. `None`: go on.
pub(crate) fn stop_requested(
    control: Control,
    interrupt: &Interrupt,
    limits: &Limits,
    started: &Instant,
    iterations: u64,
) -> Option<Status> {
    if control == Control::Stop {
        Some(Status::StoppedByObserver)
    } else if interrupt.is_raised() {
        Some(Status::Interrupted)
    } else if limits.time_limit.is_some_and(|t| started.elapsed() >= t) {
        Some(Status::TimeLimit)
    } else if limits.max_iterations.is_some_and(|k| iterations >= k) {
        Some(Status::IterationLimit)
    } else {
        None
    }
}

/// Runs `solver` until its certificate meets `limits.tolerance` or another limit stops it.
///
/// Whatever the [`Status`], the result is the best values and policy found, with their
/// certificate. The checks after each step, in order: exact fixed point, certified gap within
/// tolerance, gap made of rounding only, observer, interrupt, time limit, iteration limit.
pub fn run(
    problem: &Problem<'_>,
    solver: &mut dyn Solver,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<Solution, SolveError> {
    match problem.objective.criterion {
        decide_core::Criterion::Discounted { .. } => {
            thread_pool(limits)?.install(|| run_loop(problem, solver, limits, observer, interrupt))
        }
        other => Err(SolveError::UnsupportedCriterion {
            algorithm: solver.name(),
            criterion: other.as_str(),
        }),
    }
}

fn run_loop(
    problem: &Problem<'_>,
    solver: &mut dyn Solver,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<Solution, SolveError> {
    let started = Instant::now();
    observer.on_start(&RunInfo {
        algorithm: solver.name(),
        n_states: problem.model.n_states(),
        n_transitions: problem.model.n_transitions(),
        tolerance: limits.tolerance,
    });
    solver.start(problem, limits)?;
    let mut iterations = 0u64;
    let mut sweeps = 0u64;
    let (status, mut stats) = loop {
        let sweep = solver.step(problem)?;
        iterations += 1;
        sweeps += sweep.sweeps;
        let certified = sweep.stats.map(|s| (s, problem.bounds(&s)));
        if let Some((s, _)) = certified {
            if !s.is_finite() {
                return Err(SolveError::NonFinite { iterations });
            }
        }
        let control = observer.on_iteration(&Iteration {
            index: iterations,
            max_change: sweep.max_change,
            policy_gap: certified.map(|(_, b)| b.certificate.policy_gap),
            policy_changes: sweep.policy_changes,
            elapsed: started.elapsed(),
        });
        let gap = certified.map(|(_, b)| b.certificate.policy_gap);
        let status = if sweep.exact {
            Some(Status::Converged)
        } else if gap.is_some_and(|g| g <= limits.tolerance) {
            Some(Status::Converged)
        } else if certified.is_some_and(|(_, b)| b.rounding_dominated) {
            Some(Status::PrecisionLimit)
        } else if let Some(status) =
            stop_requested(control, interrupt, limits, &started, iterations)
        {
            Some(status)
        } else if !sweep.max_change.is_finite() {
            return Err(SolveError::NonFinite { iterations });
        } else {
            None
        };
        if let Some(status) = status {
            break (status, sweep.stats);
        }
    };
    if stats.is_none() {
        stats = Some(solver.certify(problem));
        sweeps += 1;
    }
    let stats = stats.expect("set just above");
    if !stats.is_finite() || !solver.current().backup.iter().all(|v| v.is_finite()) {
        return Err(SolveError::NonFinite { iterations });
    }
    let bounds = problem.bounds(&stats);
    if !bounds.certificate.policy_gap.is_finite() {
        // Values near the largest float: the bounds overflow, and certify nothing.
        return Err(SolveError::NonFinite { iterations });
    }
    // A stable policy (policy iteration's exact stop) whose certified gap is still above the
    // tolerance — values so large that their rounding exceeds it — has not met the promise
    // "certified within the tolerance": say so, as the iterative methods do. A bit-exact
    // fixed point (`T V = V`, residual 0) stays converged: only the rounding allowance of its
    // bounds is left, and no method can do better.
    let certificate = &bounds.certificate;
    let status = if status == Status::Converged
        && !(certificate.policy_gap <= limits.tolerance)
        && certificate.residual != 0.0
    {
        Status::PrecisionLimit
    } else {
        status
    };
    let (values, policy, lower, upper) = certified_solution(problem, solver.current(), &bounds);
    let report = Report {
        algorithm: solver.name(),
        status,
        iterations,
        sweeps,
        elapsed: started.elapsed(),
        certificate: bounds.certificate,
        tolerance: limits.tolerance,
        criterion: problem.objective.criterion.as_str(),
        notes: Vec::new(),
    };
    observer.on_finish(&report);
    Ok(Solution {
        values,
        policy,
        lower,
        upper,
        report,
        gain: None,
        stages: None,
    })
}

/// Values (midpoint of the bounds), policy and per-state bounds of a certified backup
/// `current` whose statistics gave `bounds`. Terminal states keep their fixed values.
pub(crate) fn certified_solution(
    problem: &Problem<'_>,
    current: Current<'_>,
    bounds: &Bounds,
) -> (Vec<f64>, Vec<Option<ActionId>>, Vec<f64>, Vec<f64>) {
    let n = problem.model.n_states();
    let mut values = Vec::with_capacity(n);
    let mut lower = Vec::with_capacity(n);
    let mut upper = Vec::with_capacity(n);
    let mut policy = Vec::with_capacity(n);
    let midpoint = (bounds.lower_offset + bounds.upper_offset) / 2.0;
    for s in 0..n {
        let k = current.policy[s];
        if k == NO_PAIR || problem.model.is_terminal(StateId(s as u32)) {
            // A terminal state's value is fixed by the model, exactly.
            let fixed = problem.model.terminal_value(s);
            values.push(fixed);
            lower.push(fixed);
            upper.push(fixed);
            policy.push(None);
        } else {
            let b = current.backup[s];
            values.push(b + midpoint);
            lower.push(b + bounds.lower_offset);
            upper.push(b + bounds.upper_offset);
            policy.push(Some(ActionId(problem.model.pair_action(k).0)));
        }
    }
    (values, policy, lower, upper)
}
