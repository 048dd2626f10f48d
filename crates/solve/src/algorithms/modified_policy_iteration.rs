//! Modified policy iteration (Puterman & Shin 1978) with adaptive partial evaluation: greedy
//! improvement by one certified Bellman backup, then as many sweeps of `T_π` as pay off.
//!
//! The certificate is the stopping rule, and it depends on the **span** of `d = T V − V`
//! (MacQueen bounds), not on its size. So the evaluation sweeps are judged by the span of
//! their own change:
//!
//! * they stop once that span is small enough for the certificate (`c·span ≤ tolerance/4`,
//!   `c = γ/(1−γ)`), or once it is a fraction [`FORCING`] of the span the last backup left:
//!   evaluating a policy about to change more precisely than that is wasted work (inexact
//!   policy iteration with a forcing term);
//! * a `T_π` sweep reads one pair per state, a fraction `1/A` of what a backup reads, so on a
//!   fast-mixing model (span shrinking by a large factor per sweep) a few cheap sweeps replace
//!   many backups.
//!
//! On a slow-mixing model (the span barely shrinks per sweep: value has to travel step by step
//! along long paths, as in a large gridworld at discount 0.99) partial evaluation does not pay:
//! evaluating a policy that is still wrong far from the goal does not carry value further, and
//! each improvement moves that frontier by about one step. Measured on a 316 × 316 gridworld,
//! modified policy iteration with 20 sweeps per iteration did 1.7 times the work of plain value
//! iteration, and Gauss–Seidel sweeps (forward, backward or alternating) hardly fewer sweeps than
//! value iteration while running on one thread. So when the evaluation sweeps show slow mixing
//! ([`SLOW_RATIO`] for [`SLOW_SWEEPS`] sweeps in a row) the solver continues as value iteration:
//! one certified parallel backup per step. Every step ends with a certified backup, so the run
//! stops on the certificate alone, and the result is deterministic for any thread count.

use super::{Iterate, extrapolation};
use crate::bellman::policy_backup;
use crate::certificate::BackupStats;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;

/// Evaluation sweeps stop once their span is this fraction of the last backup's.
pub const FORCING: f64 = 0.1;
/// An evaluation sweep that keeps more than this fraction of the span counts as slow.
pub const SLOW_RATIO: f64 = 0.9;
/// This many slow sweeps in a row switch the solver to value iteration.
pub const SLOW_SWEEPS: u32 = 8;

/// Modified policy iteration with adaptive partial evaluation (see the module docs). Each
/// iteration is up to `evaluation_sweeps` Jacobi sweeps of `T_π` (parallel; none once the
/// model shows slow mixing), then one certified Bellman backup.
#[derive(Clone, Debug)]
pub struct ModifiedPolicyIteration {
    /// Most partial-evaluation sweeps per iteration.
    pub evaluation_sweeps: u32,
    /// Whether the switch to value iteration on slow mixing may happen (on by default).
    pub adaptive: bool,
    iterate: Iterate,
    previous: Vec<usize>,
    tolerance: f64,
    started: bool,
    /// Span `max d − min d` of the last certified backup.
    last_span: f64,
    /// Slow-mixing mode: value iteration (no `T_π` sweeps).
    slow: bool,
}

impl Default for ModifiedPolicyIteration {
    fn default() -> Self {
        ModifiedPolicyIteration {
            evaluation_sweeps: 100,
            adaptive: true,
            iterate: Iterate::default(),
            previous: Vec::new(),
            tolerance: 0.0,
            started: false,
            last_span: f64::INFINITY,
            slow: false,
        }
    }
}

fn span(stats: &BackupStats) -> f64 {
    stats.max_diff - stats.min_diff
}

impl ModifiedPolicyIteration {
    /// Sweeps of `T_π` until their span is small enough; returns how many were made.
    fn evaluate(&mut self, problem: &Problem<'_>) -> u64 {
        let c = extrapolation(problem.discount());
        let goal = (self.tolerance / (4.0 * c)).max(FORCING * self.last_span);
        let mut previous = self.last_span;
        let mut slow_in_a_row = 0;
        let mut sweeps = 0;
        for _ in 0..self.evaluation_sweeps {
            let it = &mut self.iterate;
            let stats = policy_backup(
                problem.model,
                problem.discount(),
                &it.policy,
                &it.values,
                &mut it.scratch,
            );
            std::mem::swap(&mut it.values, &mut it.scratch);
            sweeps += 1;
            let s = span(&stats);
            if s <= goal || !s.is_finite() {
                break;
            }
            if s > SLOW_RATIO * previous {
                slow_in_a_row += 1;
                if self.adaptive && slow_in_a_row >= SLOW_SWEEPS {
                    self.slow = true;
                    break;
                }
            } else {
                slow_in_a_row = 0;
            }
            previous = s;
        }
        sweeps
    }
}

impl Solver for ModifiedPolicyIteration {
    fn name(&self) -> &'static str {
        "modified_policy_iteration"
    }

    fn start(&mut self, problem: &Problem<'_>, limits: &Limits) -> Result<(), SolveError> {
        self.iterate = Iterate::new(problem.model.n_states());
        self.tolerance = limits.tolerance;
        self.started = false;
        self.last_span = f64::INFINITY;
        self.slow = false;
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let mut sweeps = 0;
        if self.started && !self.slow {
            sweeps = self.evaluate(problem);
        }
        self.previous.clone_from(&self.iterate.policy);
        let stats = self.iterate.backup(problem, self.started);
        self.started = true;
        self.last_span = span(&stats);
        let changes = self
            .previous
            .iter()
            .zip(&self.iterate.policy)
            .filter(|(a, b)| a != b)
            .count() as u64;
        Ok(Sweep {
            stats: Some(stats),
            exact: false,
            max_change: stats.residual(),
            sweeps: sweeps + 1,
            policy_changes: Some(changes),
        })
    }

    fn certify(&mut self, problem: &Problem<'_>) -> BackupStats {
        self.iterate.backup(problem, true)
    }

    fn current(&self) -> Current<'_> {
        self.iterate.current()
    }
}
