//! The vocabulary of decide: typed ids, the compiled tabular MDP and its builder, the
//! objective, and the run protocol (limits, status, certificate, report, observer) that every
//! solver shares.
//!
//! **This crate does no I/O and starts no threads.**
//!
//! ```
//! use decide_core::{MdpBuilder, StateId, ActionId};
//! // pymdptoolbox's "small" model: two states, two actions.
//! let mut b = MdpBuilder::new();
//! b.add(0, 0, 0, 0.5, 5.0)?; b.add(0, 0, 1, 0.5, 5.0)?;
//! b.add(0, 1, 1, 1.0, 10.0)?;
//! b.add(1, 0, 0, 0.8, -1.0)?; b.add(1, 0, 1, 0.2, -1.0)?;
//! b.add(1, 1, 0, 0.1, 2.0)?; b.add(1, 1, 1, 0.9, 2.0)?;
//! let (mdp, summary) = b.build()?;
//! assert_eq!(mdp.n_states(), 2);
//! assert_eq!(mdp.actions(StateId(1)).collect::<Vec<_>>(), vec![ActionId(0), ActionId(1)]);
//! assert_eq!(summary.merged_duplicates, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Extension points
//!
//! | trait | where | implement | comes with defaults |
//! |---|---|---|---|
//! | [`run::Observer`] | here | nothing required | `on_start`, `on_iteration` (may stop the run), `on_finish` |
//! | `Solver` | `decide-solve` | `name`, `step`, `certify`, `current` | — |

pub mod error;
pub mod generate;
pub mod ids;
pub mod large_array;
pub mod model;
pub mod objective;
pub mod run;

pub use error::{BuildError, ModelError};
pub use ids::{ActionId, StateId};
pub use model::{
    BuildSummary, MdpBuilder, Outcome, Probabilities, ProbabilityArray, TabularMdp,
    ValidationOptions,
};
pub use objective::{Criterion, Objective, Sense};
pub use run::{
    Certificate, Control, Gain, Interrupt, Iteration, Limits, Observer, Report, RunInfo, Solution,
    StagePlan, Status,
};
