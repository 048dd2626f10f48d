//! One type per algorithm; each implements [`Solver`](crate::Solver) and nothing else.

mod gauss_seidel;
mod linear_program;
mod modified_policy_iteration;
mod policy_iteration;
mod value_iteration;

pub use gauss_seidel::GaussSeidel;
pub use linear_program::{
    Formulation, LinearProgramming, LpIterations, LpSolution, solve_lp, solve_lp_from,
    uniform_initial,
};
pub use modified_policy_iteration::ModifiedPolicyIteration;
pub use policy_iteration::PolicyIteration;
pub use value_iteration::ValueIteration;

use crate::bellman::{NO_PAIR, backup};
use crate::certificate::{BackupStats, q_rounding};
use crate::runner::{Current, Problem};
use decide_core::large_array::LargeArray;

/// The buffers every method keeps: the latest certified backup `T V`, the policy greedy for
/// `V`, and scratch space for the next backup.
#[derive(Clone, Debug, Default)]
struct Iterate {
    values: LargeArray<f64>,
    scratch: LargeArray<f64>,
    policy: Vec<usize>,
}

impl Iterate {
    fn new(n: usize) -> Self {
        Iterate {
            values: LargeArray::zeroed(n),
            scratch: LargeArray::zeroed(n),
            policy: vec![NO_PAIR; n],
        }
    }

    /// `values ← T values`, with the greedy policy; previous policy wins rounding-level ties
    /// when `keep_ties`.
    fn backup(&mut self, problem: &Problem<'_>, keep_ties: bool) -> BackupStats {
        let tie = keep_ties.then(|| {
            let magnitude = self.values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            2.0 * q_rounding(
                problem.model.max_outcomes(),
                problem.max_abs_reward,
                problem.discount(),
                magnitude,
            )
        });
        let stats = backup(
            problem.model,
            problem.sense(),
            problem.discount(),
            &self.values,
            &mut self.scratch,
            &mut self.policy,
            tie,
        );
        std::mem::swap(&mut self.values, &mut self.scratch);
        stats
    }

    fn current(&self) -> Current<'_> {
        Current {
            backup: &self.values,
            policy: &self.policy,
        }
    }
}

/// `c = γ/(1−γ)`: how a change in one sweep scales to a bound on the distance to `V*`.
fn extrapolation(discount: f64) -> f64 {
    discount / (1.0 - discount)
}
