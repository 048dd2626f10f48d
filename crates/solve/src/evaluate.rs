//! Exact policy evaluation: solve `(I − γ P_π) v = r_π`.
//!
//! Up to [`DIRECT_SOLVE_MAX_STATES`] states this is a sparse LU factorisation (faer) with one
//! step of iterative refinement; beyond that, fill-in makes sparse LU of random-successor
//! models impractical (measured in `shared/deps.md`: 10^4 states 2.4 s, 10^5 did not finish),
//! so Gauss–Seidel sweeps of `T_π` run until the change is at rounding level.
//!
//! With discount 1 (total reward) the policy must reach a terminal state ([`NO_PAIR`]) with
//! probability 1 from every state, or the system is singular.

use crate::bellman::{NO_PAIR, policy_gauss_seidel_sweep};
use decide_core::TabularMdp;
use faer::Mat;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, Triplet};

/// Largest model evaluated by a direct sparse solve.
pub const DIRECT_SOLVE_MAX_STATES: usize = 5000;

/// How an evaluation was done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Evaluation {
    /// `true` for a direct solve, or an iterative one that reached rounding level.
    pub exact: bool,
    /// Gauss–Seidel sweeps used (0 for a direct solve).
    pub sweeps: u64,
}

/// Evaluates `policy` (pair indices) into `v`; `v` is also the starting point of the
/// iterative method.
pub fn evaluate(mdp: &TabularMdp, discount: f64, policy: &[usize], v: &mut [f64]) -> Evaluation {
    if mdp.n_states() <= DIRECT_SOLVE_MAX_STATES
        && direct(mdp, discount, policy, Rhs::Rewards, v).is_some()
    {
        return Evaluation {
            exact: true,
            sweeps: 0,
        };
    }
    iterative(mdp, discount, policy, v)
}

/// Expected number of steps before a terminal state ([`NO_PAIR`]) under a proper `policy`:
/// the solution of `(I − P_π) τ = 1` (0 at terminal states). `None` when the model is too
/// large for the direct solve, or the solve fails.
pub fn expected_steps(mdp: &TabularMdp, policy: &[usize]) -> Option<Vec<f64>> {
    if mdp.n_states() > DIRECT_SOLVE_MAX_STATES {
        return None;
    }
    let mut tau = vec![0.0; mdp.n_states()];
    direct(mdp, 1.0, policy, Rhs::Ones, &mut tau)?;
    Some(tau)
}

/// The right-hand side of a policy system.
#[derive(Clone, Copy)]
enum Rhs {
    /// `r_π`, and terminal values at terminal states.
    Rewards,
    /// 1 per step, 0 at terminal states (expected time to termination).
    Ones,
}

/// `(I − γ P_π)` as triplets and its right-hand side.
fn system(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    kind: Rhs,
) -> (Vec<Triplet<usize, usize, f64>>, Vec<f64>) {
    let csr = mdp.csr();
    let n = mdp.n_states();
    let mut triplets = Vec::with_capacity(n + mdp.n_transitions());
    let mut rhs = vec![0.0; n];
    for s in 0..n {
        let k = policy[s];
        let mut diagonal = 1.0;
        if k == NO_PAIR {
            rhs[s] = match kind {
                Rhs::Rewards => csr.terminal_value(s),
                Rhs::Ones => 0.0,
            };
        } else {
            rhs[s] = match kind {
                Rhs::Rewards => csr.pair_reward[k],
                Rhs::Ones => 1.0,
            };
            for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                let next = csr.next[j] as usize;
                let entry = discount * csr.probability.at(j);
                if next == s {
                    diagonal -= entry;
                } else {
                    triplets.push(Triplet::new(s, next, -entry));
                }
            }
        }
        triplets.push(Triplet::new(s, s, diagonal));
    }
    (triplets, rhs)
}

fn direct(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    kind: Rhs,
    v: &mut [f64],
) -> Option<()> {
    let n = mdp.n_states();
    let (triplets, rhs) = system(mdp, discount, policy, kind);
    let a = SparseColMat::<usize, f64>::try_new_from_triplets(n, n, &triplets).ok()?;
    let lu = a.sp_lu().ok()?;
    let mut x = Mat::<f64>::from_fn(n, 1, |i, _| rhs[i]);
    lu.solve_in_place(x.as_mut());
    // One step of iterative refinement: solve A e = rhs − A x and add e.
    let mut residual = Mat::<f64>::from_fn(n, 1, |i, _| rhs[i]);
    for t in &triplets {
        residual[(t.row, 0)] -= t.val * x[(t.col, 0)];
    }
    lu.solve_in_place(residual.as_mut());
    for (i, vi) in v.iter_mut().enumerate() {
        *vi = x[(i, 0)] + residual[(i, 0)];
    }
    v.iter().all(|x| x.is_finite()).then_some(())
}

fn iterative(mdp: &TabularMdp, discount: f64, policy: &[usize], v: &mut [f64]) -> Evaluation {
    // Error after a sweep is at most γ/(1−γ)·change; stop when that is at rounding level of
    // the values, or when the change stops shrinking (rounding noise).
    let scale = (1.0 - discount) / discount.max(f64::MIN_POSITIVE);
    let cap = if discount >= 1.0 {
        // Total reward: no contraction factor to size the run by; the stall test ends it.
        10_000_000
    } else if discount > 0.0 {
        (4.0 * (f64::EPSILON.ln() / discount.ln())).ceil().min(1e7) as u64 + 16
    } else {
        2
    };
    let mut sweeps = 0;
    let mut previous = f64::INFINITY;
    let mut stalled = 0;
    while sweeps < cap {
        let change = policy_gauss_seidel_sweep(mdp, discount, policy, v);
        sweeps += 1;
        let magnitude = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if change == 0.0 || change <= scale * 8.0 * f64::EPSILON * magnitude {
            return Evaluation {
                exact: true,
                sweeps,
            };
        }
        if change >= previous {
            stalled += 1;
            if stalled >= 3 {
                return Evaluation {
                    exact: true,
                    sweeps,
                };
            }
        } else {
            stalled = 0;
        }
        previous = change;
    }
    Evaluation {
        exact: false,
        sweeps,
    }
}
