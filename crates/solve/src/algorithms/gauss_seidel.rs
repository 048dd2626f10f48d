//! Gauss–Seidel value iteration: in-place sweeps in state order.

use super::{Iterate, extrapolation};
use crate::bellman::gauss_seidel_sweep;
use crate::certificate::BackupStats;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;

/// Sweeps between two certificates at most, so progress and limits are seen regularly.
const CERTIFY_EVERY: u32 = 16;

/// Gauss–Seidel value iteration. Its in-place sweeps give no MacQueen bounds of their own, so
/// when a sweep's change suggests the tolerance is near (or every [`CERTIFY_EVERY`] sweeps)
/// one Jacobi backup certifies the values.
#[derive(Clone, Debug, Default)]
pub struct GaussSeidel {
    iterate: Iterate,
    tolerance: f64,
    since_certificate: u32,
}

impl Solver for GaussSeidel {
    fn name(&self) -> &'static str {
        "gauss_seidel"
    }

    fn start(&mut self, problem: &Problem<'_>, limits: &Limits) -> Result<(), SolveError> {
        self.iterate = Iterate::new(problem.model.n_states());
        self.tolerance = limits.tolerance;
        self.since_certificate = 0;
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let change = gauss_seidel_sweep(
            problem.model,
            problem.sense(),
            problem.discount(),
            &mut self.iterate.values,
        );
        self.since_certificate += 1;
        let near = extrapolation(problem.discount()) * change <= self.tolerance;
        if near || self.since_certificate >= CERTIFY_EVERY {
            let stats = self.certify(problem);
            return Ok(Sweep {
                stats: Some(stats),
                exact: false,
                max_change: change.max(stats.residual()),
                sweeps: 2,
                policy_changes: None,
            });
        }
        Ok(Sweep {
            stats: None,
            exact: false,
            max_change: change,
            sweeps: 1,
            policy_changes: None,
        })
    }

    fn certify(&mut self, problem: &Problem<'_>) -> BackupStats {
        self.since_certificate = 0;
        self.iterate.backup(problem, false)
    }

    fn current(&self) -> Current<'_> {
        self.iterate.current()
    }
}
