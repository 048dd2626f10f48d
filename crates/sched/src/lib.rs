//! Single-machine tardiness scheduling: 1||ΣT_j and 1||Σw_jT_j.
//!
//! n jobs, all available at time 0, are processed one at a time without preemption or idle
//! time; job j has a processing time p_j, a due date d_j and a weight w_j, and a sequence costs
//! Σ w_j max(0, C_j − d_j). decide offers three kinds of method behind one entry point,
//! [`solve`], whose [`ScheduleSolution`] reports the sequence, its cost, a proven lower bound
//! and a status, the same shape as the MDP solvers' reports:
//!
//! | method | module | what it guarantees |
//! |---|---|---|
//! | EDD, SPT, MDD, ATC, PSK, EDDC, MDDC, augmented MDD/MDDC | [`rules`] | nothing; O(n log n) to O(n³) |
//! | adjacent interchange, dynasearch, iterated dynasearch | [`local_search`] | a local optimum |
//! | subset DP (n ≤ 25), Lawler's decomposition (equal weights), SSDP | [`exact`] | optimality, or a lower bound when stopped |
//!
//! ```
//! use decide_sched::{Instance, Method, SolveOptions, solve};
//!
//! // The worked example of Çetinkaya et al. (2025): MDD is 3 above the optimum 141.
//! let instance = Instance::from_processing_and_due(
//!     &[10, 11, 10, 10, 11, 10],
//!     &[15, 11, 13, 11, 12, 11],
//! )
//! .unwrap();
//! let mdd = solve(&instance, Method::Mdd, &SolveOptions::default());
//! assert_eq!(mdd.objective, 144);
//! let exact = solve(&instance, Method::Exact, &SolveOptions::default());
//! assert_eq!((exact.objective, exact.lower_bound, exact.proven_optimal), (141, 141, true));
//! ```
//!
//! Readers for OR-Library files and JSON job lists are in [`read`]; reproducible
//! Potts–Van Wassenhove instances in [`generate`].

pub mod exact;
pub mod generate;
pub mod instance;
pub mod local_search;
pub mod read;
pub mod rng;
pub mod rules;
pub mod solve;

pub use instance::{Instance, InstanceError, Job, Objective};
pub use solve::{Method, ScheduleSolution, SolveOptions, Status, solve};
