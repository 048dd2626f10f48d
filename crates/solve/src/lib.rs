//! Dynamic-programming solvers for [`TabularMdp`](decide_core::TabularMdp), each returning
//! values, a policy and a **certificate**: per-state bounds that provably contain `V*` and the
//! guaranteed sub-optimality of the returned policy.
//!
//! ```
//! use decide_core::{MdpBuilder, Objective, Sense, Limits, StateId, ActionId};
//! use decide_solve::{solve, Algorithm, Problem};
//! // pymdptoolbox's "small" model at discount 0.99.
//! let mut b = MdpBuilder::new();
//! for (s, a, n, p, r) in [(0, 0, 0, 0.5, 5.0), (0, 0, 1, 0.5, 5.0), (0, 1, 1, 1.0, 10.0),
//!                         (1, 0, 0, 0.8, -1.0), (1, 0, 1, 0.2, -1.0),
//!                         (1, 1, 0, 0.1, 2.0), (1, 1, 1, 0.9, 2.0)] {
//!     b.add(s, a, n, p, r)?;
//! }
//! let (mdp, _) = b.build()?;
//! let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.99)?);
//! let solution = solve(&problem, Algorithm::ValueIteration, &Limits::default())?;
//! assert!((solution.values[0] - 392.299107).abs() < 1e-5);
//! assert_eq!(solution.policy, vec![Some(ActionId(1)), Some(ActionId(0))]);
//! assert!(solution.report.certificate.policy_gap <= 1e-6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! | algorithm | type | CLI | criteria |
//! |---|---|---|---|
//! | value iteration (Jacobi) | [`algorithms::ValueIteration`] | `vi` | discounted; total ([`total`]), average (relative VI, [`average`]) |
//! | Gauss–Seidel value iteration | [`algorithms::GaussSeidel`] | `gs` | discounted |
//! | policy iteration, exact evaluation | [`algorithms::PolicyIteration`] | `pi` | discounted; total, average (Howard) |
//! | modified policy iteration | [`algorithms::ModifiedPolicyIteration`] | `mpi` | discounted |
//! | linear programming (HiGHS; cargo feature `lp`, on by default): primal over values, dual over occupancy measures | [`algorithms::LinearProgramming`] | `lp`, `lp-dual` | discounted |
//!
//! Finite horizon takes `auto` only (backward induction, [`finite`]); [`Algorithm::supports`]
//! says which algorithm solves which criterion, and [`solve_with`] refuses the rest.
//!
//! **Solvers never print**, and own no loop control: [`runner::run`] is the only loop.

pub mod algorithm;
pub mod algorithms;
pub mod average;
pub mod bellman;
pub mod certificate;
pub mod evaluate;
pub mod finite;
pub mod mixed_precision;
pub mod robust;
pub mod runner;
pub mod total;

pub use algorithm::Algorithm;
pub use runner::{Problem, SolveError, Solver, Sweep, run, solve, solve_with};
