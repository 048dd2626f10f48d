//! The algorithms by name: the one place where CLI spellings (`vi`, `gs`, …) are parsed.

use crate::Solver;
use crate::algorithms::{
    Formulation, GaussSeidel, LinearProgramming, ModifiedPolicyIteration, PolicyIteration,
    ValueIteration,
};
use crate::evaluate::DIRECT_SOLVE_MAX_STATES;
use decide_core::{Criterion, TabularMdp};
use std::fmt;
use std::str::FromStr;

/// A solution method for the discounted criterion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Policy iteration where its exact evaluation is a direct sparse solve, otherwise
    /// modified policy iteration.
    #[default]
    Auto,
    /// Jacobi value iteration.
    ValueIteration,
    /// Gauss–Seidel value iteration.
    GaussSeidel,
    /// Policy iteration with exact policy evaluation.
    PolicyIteration,
    /// Modified policy iteration (partial evaluation by a fixed number of sweeps).
    ModifiedPolicyIteration,
    /// Linear programming through HiGHS (cargo feature `lp`): the primal LP over values or
    /// the dual over occupancy measures; the LP's policy is evaluated exactly and backed up
    /// once, which certifies it. Discounted criterion only.
    LinearProgramming {
        /// Which LP.
        formulation: Formulation,
    },
}

impl Algorithm {
    /// The concrete algorithm `Auto` stands for on this model (others map to themselves).
    pub fn resolve(self, mdp: &TabularMdp) -> Algorithm {
        match self {
            Algorithm::Auto if mdp.n_states() <= DIRECT_SOLVE_MAX_STATES => {
                Algorithm::PolicyIteration
            }
            Algorithm::Auto => Algorithm::ModifiedPolicyIteration,
            other => other,
        }
    }

    /// A fresh solver for this algorithm (after [`resolve`](Self::resolve)).
    pub fn solver(self, mdp: &TabularMdp) -> Box<dyn Solver> {
        match self.resolve(mdp) {
            Algorithm::ValueIteration => Box::new(ValueIteration::default()),
            Algorithm::GaussSeidel => Box::new(GaussSeidel::default()),
            Algorithm::PolicyIteration => Box::new(PolicyIteration::default()),
            Algorithm::ModifiedPolicyIteration | Algorithm::Auto => {
                Box::new(ModifiedPolicyIteration::default())
            }
            Algorithm::LinearProgramming { formulation } => {
                Box::new(LinearProgramming::new(formulation))
            }
        }
    }

    /// The short CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Auto => "auto",
            Algorithm::ValueIteration => "vi",
            Algorithm::GaussSeidel => "gs",
            Algorithm::PolicyIteration => "pi",
            Algorithm::ModifiedPolicyIteration => "mpi",
            Algorithm::LinearProgramming {
                formulation: Formulation::Primal,
            } => "lp",
            Algorithm::LinearProgramming {
                formulation: Formulation::Dual,
            } => "lp-dual",
        }
    }

    /// Whether this algorithm solves `criterion` (the README's criteria table): every
    /// algorithm the discounted criterion; `auto`, `pi` and `vi` the total and average
    /// criteria; only `auto` (backward induction) the finite horizon.
    pub fn supports(self, criterion: &Criterion) -> bool {
        match criterion {
            Criterion::Discounted { .. } => true,
            Criterion::Total | Criterion::Average => matches!(
                self,
                Algorithm::Auto | Algorithm::PolicyIteration | Algorithm::ValueIteration
            ),
            Criterion::FiniteHorizon { .. } => self == Algorithm::Auto,
        }
    }

    /// The CLI spellings of the algorithms that solve the criterion named `criterion` (as
    /// [`Criterion::as_str`] spells it), for messages.
    pub fn supported_for(criterion: &str) -> &'static str {
        match criterion {
            "discounted" => "auto, vi, gs, pi, mpi, lp, lp-dual",
            "total" => "auto (= pi), pi, vi",
            "average" => "auto (pi up to 5000 states, else vi), pi, vi (relative value iteration)",
            "finite" => "auto (backward induction) only",
            _ => "auto",
        }
    }

    /// Every concrete algorithm (not `Auto`).
    pub const ALL: [Algorithm; 4] = [
        Algorithm::ValueIteration,
        Algorithm::GaussSeidel,
        Algorithm::PolicyIteration,
        Algorithm::ModifiedPolicyIteration,
    ];
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "auto" => Ok(Algorithm::Auto),
            "vi" | "valueiteration" => Ok(Algorithm::ValueIteration),
            "gs" | "gaussseidel" | "valueiterationgs" => Ok(Algorithm::GaussSeidel),
            "pi" | "policyiteration" => Ok(Algorithm::PolicyIteration),
            "mpi" | "modifiedpolicyiteration" | "policyiterationmodified" => {
                Ok(Algorithm::ModifiedPolicyIteration)
            }
            "lp" | "linearprogramming" | "lpprimal" | "linearprogrammingprimal" => {
                Ok(Algorithm::LinearProgramming {
                    formulation: Formulation::Primal,
                })
            }
            "lpdual" | "linearprogrammingdual" => Ok(Algorithm::LinearProgramming {
                formulation: Formulation::Dual,
            }),
            _ => Err(format!(
                "unknown algorithm {s:?} (expected auto, vi, gs, pi, mpi, lp or lp-dual)"
            )),
        }
    }
}
