//! Why a model is invalid. Messages are lower case, name the ids, and carry no file
//! context: readers wrap them with path and line.

use crate::ids::{ActionId, StateId};
use std::fmt;

/// Which number of an outcome is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The transition probability.
    Probability,
    /// The reward (or cost).
    Reward,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Probability => "probability",
            Field::Reward => "reward",
        })
    }
}

/// A violation of the model semantics of PRODUCT.md.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The probabilities of one (state, action) do not sum to 1 within the tolerance.
    #[error(
        "state {state}, action {action}: probabilities sum to {sum} (must be 1 within {tolerance:e})"
    )]
    ProbabilitySum {
        /// The state.
        state: StateId,
        /// The action.
        action: ActionId,
        /// The sum found.
        sum: f64,
        /// The tolerance allowed.
        tolerance: f64,
    },
    /// A probability outside [0, 1].
    #[error(
        "state {state}, action {action}: probability {probability} of next state {next} is outside [0, 1]"
    )]
    ProbabilityOutOfRange {
        /// The state.
        state: StateId,
        /// The action.
        action: ActionId,
        /// The next state.
        next: StateId,
        /// The offending value.
        probability: f64,
    },
    /// NaN or infinity.
    #[error("state {state}, action {action}: {field} is {value}, not a finite number")]
    NonFinite {
        /// The state.
        state: StateId,
        /// The action.
        action: ActionId,
        /// Probability or reward.
        field: Field,
        /// The value found.
        value: f64,
    },
    /// A state without any action that is not marked terminal.
    #[error("state {state}: has no actions and is not marked terminal")]
    NoActions {
        /// The state.
        state: StateId,
    },
    /// A state id at or beyond the declared number of states.
    #[error("{role} {id} is out of range (the model has {n_states} states, ids below {n_states})")]
    StateOutOfRange {
        /// "state" or "next state".
        role: &'static str,
        /// The id found.
        id: u64,
        /// The declared number of states.
        n_states: u64,
    },
    /// An action id at or beyond the declared number of actions.
    #[error(
        "action {id} is out of range (the model has {n_actions} actions, ids below {n_actions})"
    )]
    ActionOutOfRange {
        /// The id found.
        id: u64,
        /// The declared number of actions.
        n_actions: u64,
    },
    /// More states or actions than `u32` ids can name.
    #[error("{what} count {count} is too large (at most {max})")]
    TooLarge {
        /// "state" or "action".
        what: &'static str,
        /// The count requested.
        count: u64,
        /// The largest count supported.
        max: u64,
    },
    /// A discount outside [0, 1) for the discounted criterion.
    #[error(
        "discount {discount} is outside [0, 1) required by the discounted criterion{}",
        if *discount == 1.0 { " (for undiscounted models use --criterion total or --criterion average)" } else { "" }
    )]
    InvalidDiscount {
        /// The value given.
        discount: f64,
    },
    /// A discount outside [0, 1] for the finite-horizon criterion.
    #[error("discount {discount} is outside [0, 1] required by the finite-horizon criterion")]
    InvalidHorizonDiscount {
        /// The value given.
        discount: f64,
    },
    /// A terminal value that is NaN or infinite.
    #[error("state {state}: terminal value {value} is not a finite number")]
    NonFiniteTerminalValue {
        /// The state.
        state: StateId,
        /// The value found.
        value: f64,
    },
    /// The model has no states at all.
    #[error("the model has no states")]
    Empty,
}

/// A [`ModelError`] found while building, with the origin (usually the file line) of the
/// first row that was added for the offending (state, action), when the caller gave one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{error}")]
pub struct BuildError {
    /// The origin tag given to [`crate::MdpBuilder::add_at`], usually a 1-based line number.
    pub origin: Option<u64>,
    /// What is wrong.
    pub error: ModelError,
}

impl From<ModelError> for BuildError {
    fn from(error: ModelError) -> Self {
        BuildError {
            origin: None,
            error,
        }
    }
}
