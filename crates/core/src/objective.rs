//! What is optimised: the sense (maximise reward or minimise cost) and the criterion.

use std::fmt;
use std::str::FromStr;

/// Whether the numbers on transitions are rewards to maximise or costs to minimise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sense {
    /// Maximise expected reward (the default).
    #[default]
    Maximize,
    /// Minimise expected cost.
    Minimize,
}

impl Sense {
    /// `true` when `candidate` is strictly better than `incumbent` under this sense.
    #[inline]
    pub fn better(self, candidate: f64, incumbent: f64) -> bool {
        match self {
            Sense::Maximize => candidate > incumbent,
            Sense::Minimize => candidate < incumbent,
        }
    }

    /// The spelling used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Sense::Maximize => "maximize",
            Sense::Minimize => "minimize",
        }
    }
}

impl fmt::Display for Sense {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sense {
    type Err = String;
    /// Accepts `maximize`/`max`/`reward` and `minimize`/`min`/`cost` (the Cassandra words too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "maximize" | "maximise" | "max" | "reward" => Ok(Sense::Maximize),
            "minimize" | "minimise" | "min" | "cost" => Ok(Sense::Minimize),
            other => Err(format!(
                "unknown sense {other:?} (expected maximize or minimize)"
            )),
        }
    }
}

/// The optimality criterion (PRODUCT.md, "Model semantics").
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Criterion {
    /// Expected discounted sum, `0 ≤ discount < 1`.
    Discounted {
        /// The discount factor γ.
        discount: f64,
    },
    /// Expected total reward until a terminal state is reached (stochastic shortest path,
    /// discount 1). Terminal states are those the model marks, plus states whose every action
    /// returns to them with probability 1 and reward 0.
    Total,
    /// Expected (discounted) sum over a fixed number of steps, then the terminal values.
    FiniteHorizon {
        /// Number of decisions `T`.
        horizon: u32,
        /// The discount factor, `0 ≤ γ ≤ 1`.
        discount: f64,
    },
    /// Long-run average reward per step (unichain models).
    Average,
}

impl Criterion {
    /// The spelling used on the command line and in output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Criterion::Discounted { .. } => "discounted",
            Criterion::Total => "total",
            Criterion::FiniteHorizon { .. } => "finite",
            Criterion::Average => "average",
        }
    }
}

/// Sense and criterion together: everything a solver needs besides the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Objective {
    /// Maximise rewards or minimise costs.
    pub sense: Sense,
    /// How rewards over time are combined.
    pub criterion: Criterion,
}

impl Objective {
    /// A discounted objective, checking `0 ≤ discount < 1`.
    pub fn discounted(sense: Sense, discount: f64) -> Result<Self, crate::ModelError> {
        if !(discount.is_finite() && (0.0..1.0).contains(&discount)) {
            return Err(crate::ModelError::InvalidDiscount { discount });
        }
        Ok(Objective {
            sense,
            criterion: Criterion::Discounted { discount },
        })
    }

    /// The total-reward (stochastic shortest path) objective.
    pub fn total(sense: Sense) -> Self {
        Objective {
            sense,
            criterion: Criterion::Total,
        }
    }

    /// A finite-horizon objective, checking `0 ≤ discount ≤ 1`.
    pub fn finite_horizon(
        sense: Sense,
        horizon: u32,
        discount: f64,
    ) -> Result<Self, crate::ModelError> {
        if !(discount.is_finite() && (0.0..=1.0).contains(&discount)) {
            return Err(crate::ModelError::InvalidHorizonDiscount { discount });
        }
        Ok(Objective {
            sense,
            criterion: Criterion::FiniteHorizon { horizon, discount },
        })
    }

    /// The average-reward objective.
    pub fn average(sense: Sense) -> Self {
        Objective {
            sense,
            criterion: Criterion::Average,
        }
    }

    /// The discount factor applied per step (1 for total and average reward).
    pub fn discount(&self) -> f64 {
        match self.criterion {
            Criterion::Discounted { discount } | Criterion::FiniteHorizon { discount, .. } => {
                discount
            }
            Criterion::Total | Criterion::Average => 1.0,
        }
    }
}
