//! Robust value iteration, robust modified policy iteration, and robust policy evaluation,
//! each with the MacQueen–Porteus certificate (see the [module docs](super)).

use super::operator::Operator;
use super::{Rectangularity, RobustError, RobustProblem};
use crate::bellman::NO_PAIR;
use crate::certificate::{BackupStats, Bounds, bounds};
use crate::evaluate::evaluate;
use crate::runner::stop_requested;
use decide_core::{
    ActionId, Control, Interrupt, Iteration, Limits, Observer, Report, RunInfo, Solution, StateId,
    Status, TabularMdp,
};
use std::time::Instant;

/// How to solve a robust problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RobustAlgorithm {
    /// Robust value iteration: every sweep a certified robust backup.
    ValueIteration,
    /// Robust modified policy iteration: after each certified backup, `sweeps` applications
    /// of the robust operator of the greedy policy (sa-rectangular sets; s-rectangular sets
    /// fall back to value iteration).
    ModifiedPolicyIteration {
        /// Partial evaluation sweeps per improvement.
        sweeps: u32,
    },
}

impl RobustAlgorithm {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            RobustAlgorithm::ValueIteration => "robust_value_iteration",
            RobustAlgorithm::ModifiedPolicyIteration { .. } => "robust_modified_policy_iteration",
        }
    }
}

impl std::str::FromStr for RobustAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "vi" | "value-iteration" => Ok(RobustAlgorithm::ValueIteration),
            "auto" | "mpi" | "modified-policy-iteration" => {
                Ok(RobustAlgorithm::ModifiedPolicyIteration { sweeps: 20 })
            }
            other => Err(format!(
                "robust solving supports --algorithm auto, vi or mpi, not {other:?}"
            )),
        }
    }
}

/// A robust solution.
#[derive(Clone, Debug, PartialEq)]
pub struct RobustSolution {
    /// Robust values (midpoint of the bounds), the policy (s-rectangular: the action of
    /// largest weight of [`randomized`](Self::randomized)), certified bounds on the robust
    /// optimal value, and the report. The policy gap is that of the returned policy —
    /// the randomised one for an s-rectangular set.
    pub solution: Solution,
    /// s-rectangular sets: the agent's optimal randomised policy, `(action, probability)` per
    /// state (empty for terminal states). `None` for sa-rectangular sets.
    pub randomized: Option<Vec<Vec<(ActionId, f64)>>>,
    /// Nature's reply to the returned values: a model of the set against which the policy's
    /// value is (within the certificate) the robust value.
    pub worst_case: TabularMdp,
    /// Largest bracket width of an inner step in the last backup (0 for exact steps).
    pub inner_gap: f64,
}

/// The robust value of a given policy.
#[derive(Clone, Debug, PartialEq)]
pub struct RobustEvaluation {
    /// Midpoint of the bounds.
    pub values: Vec<f64>,
    /// Certified lower bound on the robust value (upper for costs: "lower" is always the
    /// worse-for-the-agent side in value units, i.e. the smaller number).
    pub lower: Vec<f64>,
    /// Certified upper bound.
    pub upper: Vec<f64>,
    /// The worst-case model found: a model in the set.
    pub worst_case: TabularMdp,
    /// The exact value of the policy in [`worst_case`](Self::worst_case) (a direct solve):
    /// no better for the agent than the bounds allow, and an achievable value of nature.
    pub worst_case_values: Vec<f64>,
    /// How it went (iterations count nature's improvement rounds and sweeps).
    pub report: Report,
}

/// MacQueen bounds of one robust backup: those of [`crate::certificate::bounds`] with the
/// rounding allowance of the worst-case steps (up to `4k + 8` operations per outcome instead
/// of `k + 2`) and the inner steps' bracket width `eta` added like a `q` error (`3η/(1−γ)`).
pub fn robust_bounds(
    stats: &BackupStats,
    discount: f64,
    max_outcomes: usize,
    max_abs_reward: f64,
    eta: f64,
) -> Bounds {
    let mut b = bounds(stats, discount, 4 * max_outcomes + 8, max_abs_reward);
    let extra = 3.0 * eta / (1.0 - discount);
    b.lower_offset -= extra;
    b.upper_offset += extra;
    b.certificate.rounding += extra;
    b.certificate.policy_gap += 2.0 * extra;
    b.certificate.value_error += extra;
    let c = discount / (1.0 - discount);
    b.rounding_dominated = c * (stats.max_diff - stats.min_diff) <= 2.0 * b.certificate.rounding;
    b
}

fn certified(op: &Operator<'_>, stats: &BackupStats, eta: f64) -> Bounds {
    robust_bounds(
        stats,
        op.problem.objective.discount(),
        op.max_outcomes(),
        op.max_abs_reward(),
        eta,
    )
}

/// [`solve_robust_with`] without observer or interrupt.
pub fn solve_robust(
    problem: &RobustProblem<'_>,
    algorithm: RobustAlgorithm,
    limits: &Limits,
) -> Result<RobustSolution, RobustError> {
    solve_robust_with(problem, algorithm, limits, &mut (), &Interrupt::new())
}

/// Solves a robust problem: the robust optimal values with certified bounds, a robust optimal
/// policy within the certified gap, and nature's worst-case model for it.
///
/// The checks after each backup are the runner's ([`crate::run`]): certified gap within the
/// tolerance, gap made of rounding only, observer, interrupt, time, iterations.
pub fn solve_robust_with(
    problem: &RobustProblem<'_>,
    algorithm: RobustAlgorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<RobustSolution, RobustError> {
    problem.check()?;
    let pool = crate::runner::thread_pool(limits)?;
    pool.install(|| solve_loop(problem, algorithm, limits, observer, interrupt))
}

fn solve_loop(
    problem: &RobustProblem<'_>,
    algorithm: RobustAlgorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<RobustSolution, RobustError> {
    let started = Instant::now();
    let op = Operator::new(problem);
    let model = problem.model;
    let n = model.n_states();
    let partial = match algorithm {
        RobustAlgorithm::ModifiedPolicyIteration { sweeps }
            if problem.rectangularity == Rectangularity::Sa =>
        {
            sweeps
        }
        _ => 0,
    };
    let name = if partial > 0 {
        "robust_modified_policy_iteration"
    } else {
        "robust_value_iteration"
    };
    observer.on_start(&RunInfo {
        algorithm: name,
        n_states: n,
        n_transitions: model.n_transitions(),
        tolerance: limits.tolerance,
    });
    let mut v: Vec<f64> = (0..n).map(|s| model.terminal_value(s)).collect();
    let mut next = vec![0.0; n];
    let mut policy = vec![NO_PAIR; n];
    let mut scratch_policy = vec![NO_PAIR; n];
    let (mut iterations, mut sweeps) = (0u64, 0u64);
    let (status, stats, eta, bounds) = loop {
        let (stats, eta) = op.backup(&v, &mut next, &mut policy, None);
        iterations += 1;
        sweeps += 1;
        if !stats.is_finite() {
            return Err(crate::SolveError::NonFinite { iterations }.into());
        }
        let b = certified(&op, &stats, eta);
        let control = observer.on_iteration(&Iteration {
            index: iterations,
            max_change: stats.residual(),
            policy_gap: Some(b.certificate.policy_gap),
            policy_changes: None,
            elapsed: started.elapsed(),
        });
        let status = if b.certificate.policy_gap <= limits.tolerance {
            Some(Status::Converged)
        } else if b.rounding_dominated {
            Some(Status::PrecisionLimit)
        } else {
            stop_requested(control, interrupt, limits, &started, iterations)
        };
        if let Some(status) = status {
            break (status, stats, eta, b);
        }
        std::mem::swap(&mut v, &mut next);
        // Partial robust evaluation of the greedy policy.
        for _ in 0..partial {
            let (s, _) = op.backup(&v, &mut next, &mut scratch_policy, Some(&policy));
            sweeps += 1;
            std::mem::swap(&mut v, &mut next);
            if !s.is_finite() {
                return Err(crate::SolveError::NonFinite { iterations }.into());
            }
            if s.residual() == 0.0 {
                break;
            }
        }
    };
    // `next = T v`, `policy` greedy for `v`: the certified pair.
    let midpoint = (bounds.lower_offset + bounds.upper_offset) / 2.0;
    let mut values = Vec::with_capacity(n);
    let mut lower = Vec::with_capacity(n);
    let mut upper = Vec::with_capacity(n);
    let mut actions = Vec::with_capacity(n);
    for s in 0..n {
        if policy[s] == NO_PAIR {
            let fixed = model.terminal_value(s);
            values.push(fixed);
            lower.push(fixed);
            upper.push(fixed);
            actions.push(None);
        } else if op.absorbing_zero(s) {
            // Exactly 0 whatever the policy and nature: no certificate slack to add.
            values.push(0.0);
            lower.push(0.0);
            upper.push(0.0);
            actions.push(Some(model.pair_action(policy[s])));
        } else {
            values.push(next[s] + midpoint);
            lower.push(next[s] + bounds.lower_offset);
            upper.push(next[s] + bounds.upper_offset);
            actions.push(Some(model.pair_action(policy[s])));
        }
    }
    let randomized = (problem.rectangularity == Rectangularity::S).then(|| {
        (0..n)
            .map(|s| {
                op.weights(s, &v)
                    .into_iter()
                    .map(|(k, w)| (model.pair_action(k), w))
                    .collect()
            })
            .collect()
    });
    // Nature's reply to the returned values.
    let worst_case = op.worst_case_model(&values, None);
    let mut notes = vec![format!(
        "ambiguity {} ({}-rectangular)",
        problem.ambiguity.describe(),
        match problem.rectangularity {
            Rectangularity::Sa => "sa",
            Rectangularity::S => "s",
        }
    )];
    if eta > 0.0 {
        notes.push(format!(
            "inner worst-case steps solved to within {eta:.1e} (included in the certificate)"
        ));
    }
    let report = Report {
        algorithm: name,
        status,
        iterations,
        sweeps,
        elapsed: started.elapsed(),
        certificate: bounds.certificate,
        tolerance: limits.tolerance,
        criterion: problem.objective.criterion.as_str(),
        notes,
    };
    let _ = stats;
    observer.on_finish(&report);
    Ok(RobustSolution {
        solution: Solution {
            values,
            policy: actions,
            lower,
            upper,
            report,
            gain: None,
            stages: None,
        },
        randomized,
        worst_case,
        inner_gap: eta,
    })
}

/// The robust value of a deterministic `policy` (`None` only at terminal states), with the
/// worst-case model nature answers it with.
///
/// Nature's problem against a fixed policy is an MDP of its own; it is solved by nature's
/// policy iteration (worst-case model for the current values, exact evaluation of the policy
/// in that model, until the values stop decreasing), then certified by one robust backup of
/// the policy's operator (MacQueen bounds) — iterated further if that gap exceeds the
/// tolerance. The upper bound is also capped by the exact value in the worst-case model found,
/// which is a model of the set.
pub fn evaluate_robust(
    problem: &RobustProblem<'_>,
    policy: &[Option<ActionId>],
    limits: &Limits,
) -> Result<RobustEvaluation, RobustError> {
    problem.check()?;
    let model = problem.model;
    let n = model.n_states();
    let mut pairs = Vec::with_capacity(n);
    for s in 0..n {
        let id = StateId(s as u32);
        if model.is_terminal(id) {
            pairs.push(NO_PAIR);
            continue;
        }
        let k = policy
            .get(s)
            .copied()
            .flatten()
            .and_then(|a| model.pair_of(id, a).map(|k| (a, k)));
        match k {
            Some((_, k)) => pairs.push(k),
            None => {
                return Err(crate::SolveError::UnavailableAction {
                    state: id,
                    action: policy
                        .get(s)
                        .copied()
                        .flatten()
                        .unwrap_or(ActionId(u32::MAX)),
                }
                .into());
            }
        }
    }
    let pool = crate::runner::thread_pool(limits)?;
    pool.install(|| evaluate_loop(problem, &pairs, limits))
}

fn evaluate_loop(
    problem: &RobustProblem<'_>,
    pairs: &[usize],
    limits: &Limits,
) -> Result<RobustEvaluation, RobustError> {
    let started = Instant::now();
    let op = Operator::new(problem);
    let model = problem.model;
    let n = model.n_states();
    let discount = problem.objective.discount();
    let sign = match problem.objective.sense {
        decide_core::Sense::Maximize => 1.0,
        decide_core::Sense::Minimize => -1.0,
    };
    // Start from the nominal value of the policy.
    let mut v: Vec<f64> = (0..n).map(|s| model.terminal_value(s)).collect();
    evaluate(model, discount, pairs, &mut v);
    let mut worst = None;
    let mut worst_values = v.clone();
    let (mut iterations, mut sweeps) = (0u64, 0u64);
    // Nature's policy iteration: at most 100 rounds (finite for polyhedral sets). Each round
    // answers the current values with the worst-case model and evaluates the policy there
    // exactly; the values only go down (for the agent).
    for round in 0..100 {
        iterations += 1;
        let candidate = op.worst_case_model(&v, Some(pairs));
        let cpairs = same_pairs(&candidate, pairs, model);
        let mut w = v.clone();
        evaluate(&candidate, discount, &cpairs, &mut w);
        let magnitude = w.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let improved = (0..n).any(|s| sign * (v[s] - w[s]) > 1e-12 * magnitude);
        if round == 0 || improved {
            worst = Some(candidate);
            worst_values = w.clone();
            v = w;
        }
        if !improved {
            break;
        }
    }
    let worst = worst.expect("at least one round");
    // Certify: robust backups of the policy's operator from v.
    let mut next = vec![0.0; n];
    let mut scratch = vec![NO_PAIR; n];
    // No observer and no interrupt here: a certification pass of an evaluation.
    let never = Interrupt::new();
    let (status, b) = loop {
        let (stats, eta) = op.backup(&v, &mut next, &mut scratch, Some(pairs));
        sweeps += 1;
        if !stats.is_finite() {
            return Err(crate::SolveError::NonFinite { iterations: sweeps }.into());
        }
        let b = certified(&op, &stats, eta);
        let status = if b.certificate.policy_gap <= limits.tolerance {
            Some(Status::Converged)
        } else if b.rounding_dominated {
            Some(Status::PrecisionLimit)
        } else {
            stop_requested(Control::Continue, &never, limits, &started, sweeps)
        };
        if let Some(status) = status {
            break (status, b);
        }
        std::mem::swap(&mut v, &mut next);
    };
    let mut values = Vec::with_capacity(n);
    let mut lower = Vec::with_capacity(n);
    let mut upper = Vec::with_capacity(n);
    for s in 0..n {
        if pairs[s] == NO_PAIR {
            let fixed = model.terminal_value(s);
            values.push(fixed);
            lower.push(fixed);
            upper.push(fixed);
            continue;
        }
        if op.absorbing_zero(s) {
            values.push(0.0);
            lower.push(0.0);
            upper.push(0.0);
            continue;
        }
        let (mut lo, mut hi) = (next[s] + b.lower_offset, next[s] + b.upper_offset);
        // The exact value in a model of the set is achievable by nature.
        let w = worst_values[s];
        match problem.objective.sense {
            decide_core::Sense::Maximize => hi = hi.min(w.max(lo)),
            decide_core::Sense::Minimize => lo = lo.max(w.min(hi)),
        }
        values.push((lo + hi) / 2.0);
        lower.push(lo);
        upper.push(hi);
    }
    let gap = (0..n).map(|s| upper[s] - lower[s]).fold(0.0f64, f64::max);
    let mut certificate = b.certificate;
    certificate.policy_gap = gap;
    certificate.value_error = gap / 2.0;
    let report = Report {
        algorithm: "robust_policy_evaluation",
        status,
        iterations,
        sweeps,
        elapsed: started.elapsed(),
        certificate,
        tolerance: limits.tolerance,
        criterion: problem.objective.criterion.as_str(),
        notes: vec![format!(
            "ambiguity {}; nature's policy iteration: {iterations} rounds",
            problem.ambiguity.describe()
        )],
    };
    Ok(RobustEvaluation {
        values,
        lower,
        upper,
        worst_case: worst,
        worst_case_values: worst_values,
        report,
    })
}

/// The pair indices of `policy` (pairs of `model`) in `other`, a model with the same actions.
fn same_pairs(other: &TabularMdp, policy: &[usize], model: &TabularMdp) -> Vec<usize> {
    policy
        .iter()
        .enumerate()
        .map(|(s, &k)| {
            if k == NO_PAIR {
                NO_PAIR
            } else {
                other
                    .pair_of(StateId(s as u32), model.pair_action(k))
                    .expect("nature's model keeps every pair")
            }
        })
        .collect()
}
