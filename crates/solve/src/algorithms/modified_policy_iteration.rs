//! Modified policy iteration (Puterman & Shin 1978): greedy improvement, then a few sweeps of
//! `T_π` instead of an exact evaluation.

use super::{Iterate, extrapolation};
use crate::bellman::policy_backup;
use crate::certificate::BackupStats;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;

/// Modified policy iteration. Each iteration is one certified Bellman backup followed by up to
/// `evaluation_sweeps` Jacobi sweeps of `T_π` (parallel), cut short once their change is too
/// small to matter for the tolerance.
#[derive(Clone, Debug)]
pub struct ModifiedPolicyIteration {
    /// Most partial-evaluation sweeps per iteration.
    pub evaluation_sweeps: u32,
    iterate: Iterate,
    previous: Vec<usize>,
    tolerance: f64,
    started: bool,
}

impl Default for ModifiedPolicyIteration {
    fn default() -> Self {
        ModifiedPolicyIteration {
            evaluation_sweeps: 20,
            iterate: Iterate::default(),
            previous: Vec::new(),
            tolerance: 0.0,
            started: false,
        }
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
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let mut sweeps = 0;
        if self.started {
            let c = extrapolation(problem.discount());
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
                if c * stats.residual() <= self.tolerance / 4.0 {
                    break;
                }
            }
        }
        self.previous.clone_from(&self.iterate.policy);
        let stats = self.iterate.backup(problem, self.started);
        self.started = true;
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
