//! Jacobi value iteration: `V_{k+1} = T V_k` from `V_0 = 0`, every sweep certified.

use super::Iterate;
use crate::certificate::BackupStats;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;

/// Jacobi value iteration. Every sweep is a full Bellman backup, so every sweep gives
/// MacQueen bounds; the run stops on them, not on a precomputed number of sweeps.
#[derive(Clone, Debug, Default)]
pub struct ValueIteration {
    iterate: Iterate,
}

impl Solver for ValueIteration {
    fn name(&self) -> &'static str {
        "value_iteration"
    }

    fn start(&mut self, problem: &Problem<'_>, _limits: &Limits) -> Result<(), SolveError> {
        self.iterate = Iterate::new(problem.model.n_states());
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let stats = self.iterate.backup(problem, false);
        Ok(Sweep {
            stats: Some(stats),
            exact: false,
            max_change: stats.residual(),
            sweeps: 1,
            policy_changes: None,
        })
    }

    fn certify(&mut self, problem: &Problem<'_>) -> BackupStats {
        self.iterate.backup(problem, false)
    }

    fn current(&self) -> Current<'_> {
        self.iterate.current()
    }
}
