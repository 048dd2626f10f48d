//! Policy iteration (Howard): exact evaluation, then greedy improvement.

use super::Iterate;
use crate::certificate::BackupStats;
use crate::evaluate::evaluate;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;

/// Policy iteration with exact evaluation (sparse LU, or Gauss–Seidel to rounding level on
/// large models; see [`crate::evaluate`]). The improvement step is a full Bellman backup of
/// `V^π`, which certifies the result; the previous action wins ties that rounding cannot
/// separate, so the method stops when the policy is stable.
#[derive(Clone, Debug, Default)]
pub struct PolicyIteration {
    iterate: Iterate,
    previous: Vec<usize>,
}

impl Solver for PolicyIteration {
    fn name(&self) -> &'static str {
        "policy_iteration"
    }

    fn start(&mut self, problem: &Problem<'_>, _limits: &Limits) -> Result<(), SolveError> {
        self.iterate = Iterate::new(problem.model.n_states());
        // The first policy is greedy for V = 0, i.e. for the one-step reward.
        self.iterate.backup(problem, false);
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let evaluation = evaluate(
            problem.model,
            problem.discount(),
            &self.iterate.policy,
            &mut self.iterate.values,
        );
        self.previous.clone_from(&self.iterate.policy);
        let stats = self.iterate.backup(problem, true);
        let changes = self
            .previous
            .iter()
            .zip(&self.iterate.policy)
            .filter(|(a, b)| a != b)
            .count() as u64;
        Ok(Sweep {
            stats: Some(stats),
            exact: changes == 0 && evaluation.exact,
            max_change: stats.residual(),
            sweeps: 1 + evaluation.sweeps,
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
