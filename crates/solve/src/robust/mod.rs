//! Robust MDPs: the transition probabilities are only known to lie in an **ambiguity set**,
//! and nature picks the worst of them; the agent maximises (or, for costs, minimises) the
//! worst-case value.
//!
//! # Ambiguity sets
//!
//! | set | [`Ambiguity`] | CLI | worst-case step (per pair, `n` outcomes) |
//! |---|---|---|---|
//! | L1 ball of radius `K` around the nominal distribution, **over the nominal support** | `L1 { radius }` | `l1:K` | move `min(K/2, 1 − p_min)` of mass from the highest-valued outcomes to the lowest: `O(n log n)` |
//! | per-outcome bounds `low ≤ p ≤ high` | `Interval(&bounds)` | `interval` | start at `low`, fill the lowest-valued outcomes up to `high`: `O(n log n)` |
//! | KL ball `KL(p ‖ p̂) ≤ K` | `Kl { radius }` | `kl:K` | the one-dimensional dual `max_λ −λ log E_p̂ e^{−w/λ} − λK`, bisection on `λ`; the primal and dual values bracket the answer and the bracket is added to the certificate |
//! | finite candidates: the pair's distributions in a family of models | `Finite(&models)` | `finite` | enumerate |
//!
//! "Over the nominal support" means nature only moves probability between the outcomes the
//! compiled model has for the pair. The builder drops zero-probability rows, except in a file
//! with interval bounds (`decide_io::bounds`), where a row with probability 0 stays an outcome
//! nature may use. This is the usual choice (an L1 ball over all states lets nature teleport
//! to the worst state of the model); there is no option yet for a ball over all states. The
//! KL ball is over the positive-probability outcomes (`KL(q ‖ p) < ∞` needs `q ≪ p`).
//!
//! **Rectangularity.** [`Rectangularity::Sa`]: nature chooses independently for every
//! (state, action) pair; optimal policies are deterministic. [`Rectangularity::S`]: nature
//! chooses for every state a joint deviation of all its actions' distributions, here with a
//! shared L1 budget `Σ_a ‖p_a − p̂_a‖₁ ≤ K` (Wiesemann, Kuhn & Rustem 2013; Ho, Petrik &
//! Wiesemann 2021); optimal policies may be randomised, and [`RobustSolution::randomized`]
//! gives them. s-rectangular sets are available for `l1` only.
//!
//! # Certificates
//!
//! The robust Bellman operator `T V(s) = max_a min_{p ∈ P_sa} Σ p(s') (r(s,a,s') + γ V(s'))`
//! is, like the ordinary one, a monotone γ-contraction that commutes with adding constants,
//! and so is the operator `T_π` of the policy greedy for `V`. The MacQueen–Porteus bounds of
//! [`crate::certificate`] therefore hold for the robust optimal value and for the robust value
//! of the returned policy, with the same derivation. Two changes keep them honest for computed
//! numbers: the rounding allowance counts the extra arithmetic of the worst-case steps, and a
//! step that is solved only to a bracket (KL's bisection, s-rectangular allocation) adds its
//! bracket width `η` as `3η/(1−γ)`, exactly like the rounding error of a `q`.
//!
//! Rewards per outcome are honoured: nature's choice changes the expected reward too.
//!
//! # Entry points
//!
//! * [`solve_robust`]: robust value iteration or robust modified policy iteration, with a
//!   certificate, the policy, and the worst-case model nature answers it with;
//! * [`evaluate_robust`]: the robust value of a given policy, with the worst-case model found
//!   and the exact value of the policy in that model;
//! * [`iwocs`]: the *static* model (nature picks one model for the whole episode) by
//!   incremental worst-case search, returning a certified bracket.

pub mod inner;
pub mod iwocs;
mod operator;
mod solve;

pub use iwocs::{IwocsOptions, IwocsResult, PolicyStep, StaticSet, iwocs};
pub use operator::worst_case_model;
pub use solve::{
    RobustAlgorithm, RobustEvaluation, RobustSolution, evaluate_robust, robust_bounds,
    solve_robust, solve_robust_with,
};

use crate::runner::SolveError;
use decide_core::{Objective, StateId, TabularMdp};

/// Per-outcome probability bounds, aligned with the model's outcomes (outcome `j` of the
/// compiled model, in [`TabularMdp::csr`] order).
#[derive(Clone, Debug, PartialEq)]
pub struct IntervalBounds {
    /// Lower bound of each outcome's probability.
    pub low: Vec<f64>,
    /// Upper bound of each outcome's probability.
    pub high: Vec<f64>,
}

impl IntervalBounds {
    /// Checks the bounds against `model`: one pair of bounds per outcome, `0 ≤ low ≤ high ≤ 1`,
    /// and for every pair `Σ low ≤ 1 ≤ Σ high` (within `tolerance`), so that the set is not
    /// empty. The nominal probability need not lie inside (it is not used).
    pub fn check(&self, model: &TabularMdp, tolerance: f64) -> Result<(), RobustError> {
        let n = model.n_transitions();
        if self.low.len() != n || self.high.len() != n {
            return Err(RobustError::InvalidSet(format!(
                "interval bounds: {} lower and {} upper bounds for {n} outcomes",
                self.low.len(),
                self.high.len()
            )));
        }
        let csr = model.csr();
        for s in 0..model.n_states() {
            for k in model.pairs(StateId(s as u32)) {
                let (mut lo, mut hi) = (0.0, 0.0);
                for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                    let (l, h) = (self.low[j], self.high[j]);
                    if !(l.is_finite() && h.is_finite() && 0.0 <= l && l <= h && h <= 1.0) {
                        return Err(RobustError::InvalidSet(format!(
                            "state {s}, action {}, next state {}: interval [{l}, {h}] is not within 0 <= low <= high <= 1",
                            model.pair_action(k).0,
                            csr.next[j]
                        )));
                    }
                    lo += l;
                    hi += h;
                }
                if lo > 1.0 + tolerance || hi < 1.0 - tolerance {
                    return Err(RobustError::InvalidSet(format!(
                        "state {s}, action {}: the bounds admit no distribution (sum of lows {lo}, sum of highs {hi})",
                        model.pair_action(k).0
                    )));
                }
            }
        }
        Ok(())
    }
}

/// The ambiguity set of every pair (sa-rectangular) or state (s-rectangular).
#[derive(Clone, Copy, Debug)]
pub enum Ambiguity<'a> {
    /// L1 ball of this radius (in `[0, 2]`) around the nominal distribution, over its support.
    L1 {
        /// The radius `K`.
        radius: f64,
    },
    /// Per-outcome bounds.
    Interval(&'a IntervalBounds),
    /// KL ball `KL(p ‖ p̂) ≤ radius` around the nominal distribution `p̂`.
    Kl {
        /// The radius `K ≥ 0`.
        radius: f64,
    },
    /// The distributions of each pair in these models (same states, and the same actions
    /// available in every state, as the nominal model); the nominal model is not a candidate
    /// unless it is in the list.
    Finite(&'a [TabularMdp]),
}

impl Ambiguity<'_> {
    /// The set's name as the CLI spells it.
    pub fn describe(&self) -> String {
        match self {
            Ambiguity::L1 { radius } => format!("l1:{radius}"),
            Ambiguity::Interval(_) => "interval".into(),
            Ambiguity::Kl { radius } => format!("kl:{radius}"),
            Ambiguity::Finite(models) => format!("finite ({} models)", models.len()),
        }
    }
}

/// Whether nature chooses per (state, action) pair or per state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rectangularity {
    /// Per pair: deterministic optimal policies.
    #[default]
    Sa,
    /// Per state (a shared budget across the state's actions): possibly randomised policies.
    S,
}

impl std::str::FromStr for Rectangularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "sa" => Ok(Rectangularity::Sa),
            "s" => Ok(Rectangularity::S),
            other => Err(format!(
                "unknown rectangularity {other:?}: expected sa or s"
            )),
        }
    }
}

/// A robust problem: the nominal model, the objective (discounted only), the set.
#[derive(Clone, Copy, Debug)]
pub struct RobustProblem<'a> {
    /// The nominal model (the centre of L1 and KL balls; the structure of every set).
    pub model: &'a TabularMdp,
    /// Sense and discount. Nature works against the sense: it minimises rewards and
    /// maximises costs.
    pub objective: Objective,
    /// The ambiguity set.
    pub ambiguity: Ambiguity<'a>,
    /// Per pair or per state.
    pub rectangularity: Rectangularity,
}

impl<'a> RobustProblem<'a> {
    /// An sa-rectangular problem.
    pub fn new(model: &'a TabularMdp, objective: Objective, ambiguity: Ambiguity<'a>) -> Self {
        RobustProblem {
            model,
            objective,
            ambiguity,
            rectangularity: Rectangularity::Sa,
        }
    }

    /// The same problem with another rectangularity.
    pub fn with_rectangularity(mut self, rectangularity: Rectangularity) -> Self {
        self.rectangularity = rectangularity;
        self
    }

    /// Checks that the set fits the model and the objective is discounted.
    pub fn check(&self) -> Result<(), RobustError> {
        let decide_core::Criterion::Discounted { .. } = self.objective.criterion else {
            return Err(RobustError::Unsupported(format!(
                "robust solving supports the discounted criterion only, not {}",
                self.objective.criterion.as_str()
            )));
        };
        match self.ambiguity {
            Ambiguity::L1 { radius } if !(radius.is_finite() && (0.0..=2.0).contains(&radius)) => {
                Err(RobustError::InvalidSet(format!(
                    "the L1 radius must be in [0, 2], got {radius}"
                )))
            }
            Ambiguity::Kl { radius } if !(radius.is_finite() && radius >= 0.0) => {
                Err(RobustError::InvalidSet(format!(
                    "the KL radius must be a non-negative number, got {radius}"
                )))
            }
            Ambiguity::Interval(bounds) => bounds.check(self.model, 1e-9),
            Ambiguity::Finite(models) => check_family(self.model, models),
            _ => Ok(()),
        }?;
        if self.rectangularity == Rectangularity::S
            && !matches!(self.ambiguity, Ambiguity::L1 { .. })
        {
            return Err(RobustError::Unsupported(format!(
                "s-rectangular sets are available for l1 only, not {}",
                self.ambiguity.describe()
            )));
        }
        Ok(())
    }
}

/// Checks that every model of a family has the nominal model's states, terminal states and
/// available actions, so that pair `k` means the same (state, action) in each.
pub fn check_family(nominal: &TabularMdp, models: &[TabularMdp]) -> Result<(), RobustError> {
    if models.is_empty() {
        return Err(RobustError::InvalidSet(
            "a finite set needs at least one model".into(),
        ));
    }
    let base = nominal.csr();
    for (m, model) in models.iter().enumerate() {
        if model.n_states() != nominal.n_states() {
            return Err(RobustError::InvalidSet(format!(
                "model {m} has {} states, the nominal model {}",
                model.n_states(),
                nominal.n_states()
            )));
        }
        let csr = model.csr();
        if csr.state_pairs != base.state_pairs || csr.pair_action != base.pair_action {
            let s = (0..nominal.n_states())
                .find(|&s| {
                    let id = StateId(s as u32);
                    !model.actions(id).eq(nominal.actions(id))
                })
                .unwrap_or(0);
            return Err(RobustError::InvalidSet(format!(
                "model {m}: state {s} has other actions than in the nominal model (every model of a family must offer the same actions in every state)"
            )));
        }
        for s in 0..nominal.n_states() {
            if model.is_terminal(StateId(s as u32)) != nominal.is_terminal(StateId(s as u32))
                || model.terminal_value(s) != nominal.terminal_value(s)
            {
                return Err(RobustError::InvalidSet(format!(
                    "model {m}: state {s} is terminal (or has a terminal value) in one model and not in the other"
                )));
            }
        }
    }
    Ok(())
}

/// Failures of robust solving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RobustError {
    /// The ambiguity set does not fit the model or is empty.
    #[error("invalid ambiguity set: {0}")]
    InvalidSet(String),
    /// A combination decide does not solve.
    #[error("{0}")]
    Unsupported(String),
    /// A failure of the underlying solvers.
    #[error(transparent)]
    Solve(#[from] SolveError),
}
