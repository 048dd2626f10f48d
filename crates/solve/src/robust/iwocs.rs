//! The **static** robust model — nature picks one transition model for the whole episode —
//! solved by IWOCS, incremental worst-case search (Zouitine, Geist & Rachelson 2024; digest
//! `shared/papers/mdp-04-iwocs.md`):
//!
//! ```text
//! found = {nominal}
//! repeat:
//!     solve each newly found model (ordinary MDP): V*_j, Q*_j
//!     π_i   = policy step over the found models
//!     upper = min( upper, min_j V*_j(s0), [exact step: max_π min_j V^π_j(s0)] )
//!     T     = nature's worst model for π_i;  lower_i = (certified) value of π_i under it
//!     stop when upper − max_i lower_i ≤ tolerance, or T was already found, or at the cap
//!     found ∪= {T}
//! ```
//!
//! * **Policy step.** [`PolicyStep::Greedy`] is the paper's reading: greedy for
//!   `min_j Q*_j(s,a)`. [`PolicyStep::Exact`] (the default) maximises `min_j V^π_j(s0)` over
//!   deterministic stationary policies of the found models by branch and bound (each node
//!   bounded by the models' optima with the assigned states fixed), which also gives an
//!   upper bound; when nature's reply to that policy is already among the found models, the
//!   policy is optimal and the bracket closes. A node limit keeps it bounded; past it the
//!   bound of the open nodes is still a valid upper bound.
//! * **Worst-case oracle.** For a finite family ([`StaticSet::Finite`]) it evaluates the
//!   policy exactly in every model. For a rectangular set ([`StaticSet::Rectangular`]) it is
//!   robust policy evaluation ([`super::evaluate_robust`]), whose worst case is a single
//!   static kernel (static and dynamic worst cases coincide for stationary policies).
//! * **What the bracket means.** `lower` is the certified worst-case value at `s0` of the
//!   returned policy. `min_j V*_j(s0)` bounds every policy, history-dependent ones included;
//!   the exact step's bound holds for deterministic stationary policies. Against a finite
//!   (non-rectangular) family, randomised policies may do better than every deterministic
//!   one: the bracket is then about deterministic stationary policies.
//!
//! Values at terminal states are the model's; the sense is honoured (for costs "worse" means
//! larger and the bracket is reported in cost units with `lower ≤ upper`).

use super::{RobustError, RobustProblem, check_family, evaluate_robust};
use crate::bellman::{NO_PAIR, pair_q};
use crate::evaluate::evaluate;
use decide_core::{ActionId, Limits, Objective, Sense, StateId, TabularMdp};

/// The set nature chooses its one model from.
#[derive(Clone, Copy, Debug)]
pub enum StaticSet<'a> {
    /// A finite family of models with the same states and actions; the first is the nominal.
    Finite(&'a [TabularMdp]),
    /// Every kernel of a (rectangular) ambiguity set around its nominal model.
    Rectangular(RobustProblem<'a>),
}

/// How IWOCS picks its policy from the models found so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyStep {
    /// Greedy for `min_j Q*_j(s, a)` (the paper's reading).
    Greedy,
    /// Branch and bound over deterministic policies for `max_π min_j V^π_j(s0)`.
    Exact {
        /// Most nodes per step; past it the step returns its incumbent and a valid bound.
        node_limit: usize,
    },
}

/// IWOCS settings.
#[derive(Clone, Debug)]
pub struct IwocsOptions {
    /// The state whose value is bracketed.
    pub initial_state: usize,
    /// Most iterations (models found).
    pub max_iterations: usize,
    /// Stop when `upper − lower` is at most this.
    pub tolerance: f64,
    /// The policy step.
    pub policy_step: PolicyStep,
}

impl Default for IwocsOptions {
    fn default() -> Self {
        IwocsOptions {
            initial_state: 0,
            max_iterations: 50,
            tolerance: 1e-6,
            policy_step: PolicyStep::Exact { node_limit: 20_000 },
        }
    }
}

/// One IWOCS iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct IwocsIteration {
    /// Certified worst-case value at `s0` of this iteration's policy.
    pub lower: f64,
    /// Upper bound (in agent-better direction) on the static robust value after this step.
    pub upper: f64,
    /// Nature's reply: index into [`IwocsResult::worst_cases`], or `None` when it was new and
    /// the search stopped before adding it.
    pub reply: Option<usize>,
    /// Whether nature's reply was a model not found before.
    pub new_model: bool,
}

/// IWOCS's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct IwocsResult {
    /// Certified worst-case value of [`policy`](Self::policy) at `s0` (the best over the
    /// iterations; for costs, the smallest worst-case cost).
    pub lower: f64,
    /// The other end of the bracket on the static robust value (see the module docs).
    pub upper: f64,
    /// The policy attaining `lower`.
    pub policy: Vec<Option<ActionId>>,
    /// The models found, nominal first.
    pub worst_cases: Vec<TabularMdp>,
    /// Finite family: the index in the family of each found model.
    pub family_index: Option<Vec<usize>>,
    /// Per iteration.
    pub history: Vec<IwocsIteration>,
    /// Whether `upper − lower ≤ tolerance` (for costs: `lower` and `upper` are swapped so
    /// that `lower ≤ upper` always; the gap is the same).
    pub converged: bool,
}

/// Runs IWOCS. See the module docs.
pub fn iwocs(
    set: &StaticSet<'_>,
    objective: Objective,
    options: &IwocsOptions,
) -> Result<IwocsResult, RobustError> {
    let decide_core::Criterion::Discounted { discount } = objective.criterion else {
        return Err(RobustError::Unsupported(
            "IWOCS supports the discounted criterion only".into(),
        ));
    };
    let nominal = match set {
        StaticSet::Finite(models) => {
            let first = models.first().ok_or_else(|| {
                RobustError::InvalidSet("a static family needs at least one model".into())
            })?;
            check_family(first, models)?;
            first
        }
        StaticSet::Rectangular(problem) => {
            problem.check()?;
            problem.model
        }
    };
    let n = nominal.n_states();
    let s0 = options.initial_state;
    if s0 >= n {
        return Err(RobustError::InvalidSet(format!(
            "initial state {s0} is not a state of the model ({n} states)"
        )));
    }
    let sign = match objective.sense {
        Sense::Maximize => 1.0,
        Sense::Minimize => -1.0,
    };
    let mut found: Vec<TabularMdp> = vec![nominal.clone()];
    let mut family_index = matches!(set, StaticSet::Finite(_)).then(|| vec![0usize]);
    // Optimal values (agent-score form: σ·V) of each found model.
    let mut optima: Vec<Vec<f64>> = Vec::new();
    let mut upper_score = f64::INFINITY;
    let mut best: Option<(f64, Vec<usize>)> = None;
    let mut history = Vec::new();
    let mut converged = false;
    for _ in 0..options.max_iterations.max(1) {
        // Solve the newly found models.
        while optima.len() < found.len() {
            let m = &found[optima.len()];
            let (v, _) = restricted_optimum(m, sign, discount, &[]);
            optima.push(v.iter().map(|x| sign * x).collect());
        }
        upper_score = upper_score.min(optima.iter().map(|v| v[s0]).fold(f64::INFINITY, f64::min));
        let (policy, step_bound) = match options.policy_step {
            PolicyStep::Greedy => (greedy_min_q(&found, &optima, sign, discount), f64::INFINITY),
            PolicyStep::Exact { node_limit } => {
                let incumbent = greedy_min_q(&found, &optima, sign, discount);
                branch_and_bound(&found, sign, discount, s0, incumbent, node_limit)
            }
        };
        upper_score = upper_score.min(step_bound);
        // Nature's reply.
        let (lower_score, reply) = match set {
            StaticSet::Finite(models) => {
                let mut worst = (f64::INFINITY, 0usize);
                for (m, model) in models.iter().enumerate() {
                    let value = sign * policy_value(model, discount, &policy)[s0];
                    if value < worst.0 {
                        worst = (value, m);
                    }
                }
                (worst.0, Reply::Family(worst.1))
            }
            StaticSet::Rectangular(problem) => {
                let actions: Vec<Option<ActionId>> = policy
                    .iter()
                    .map(|&k| (k != NO_PAIR).then(|| nominal.pair_action(k)))
                    .collect();
                let limits = Limits {
                    tolerance: 1e-10,
                    threads: 1,
                    ..Limits::default()
                };
                let eval = evaluate_robust(problem, &actions, &limits)?;
                let certified = match objective.sense {
                    Sense::Maximize => eval.lower[s0],
                    Sense::Minimize => eval.upper[s0],
                };
                (sign * certified, Reply::Model(Box::new(eval.worst_case)))
            }
        };
        if best.as_ref().is_none_or(|(b, _)| lower_score > *b) {
            best = Some((lower_score, policy.clone()));
        }
        let best_lower = best.as_ref().map_or(f64::NEG_INFINITY, |b| b.0);
        let seen = match &reply {
            Reply::Family(m) => family_index
                .as_ref()
                .and_then(|f| f.iter().position(|x| x == m)),
            Reply::Model(model) => found.iter().position(|f| same_kernel(f, model)),
        };
        let done = upper_score - best_lower <= options.tolerance;
        let mut record = IwocsIteration {
            lower: sign * lower_score,
            upper: sign * upper_score,
            reply: seen,
            new_model: seen.is_none(),
        };
        if done {
            converged = true;
            history.push(record);
            break;
        }
        if seen.is_some() {
            history.push(record);
            break;
        }
        match reply {
            Reply::Family(m) => {
                found.push(match set {
                    StaticSet::Finite(models) => models[m].clone(),
                    StaticSet::Rectangular(_) => unreachable!("family replies come from families"),
                });
                if let Some(f) = family_index.as_mut() {
                    f.push(m);
                }
            }
            Reply::Model(model) => found.push(*model),
        }
        record.reply = Some(found.len() - 1);
        history.push(record);
    }
    let (best_score, best_policy) = best.expect("at least one iteration");
    let policy = best_policy
        .iter()
        .map(|&k| (k != NO_PAIR).then(|| nominal.pair_action(k)))
        .collect();
    let (lower, upper) = if sign > 0.0 {
        (best_score, upper_score)
    } else {
        (-upper_score, -best_score)
    };
    Ok(IwocsResult {
        lower,
        upper,
        policy,
        worst_cases: found,
        family_index,
        history,
        converged,
    })
}

enum Reply {
    Family(usize),
    Model(Box<TabularMdp>),
}

/// Whether two models with the same structure have the same kernel (to rounding).
fn same_kernel(a: &TabularMdp, b: &TabularMdp) -> bool {
    let (x, y) = (a.csr(), b.csr());
    x.state_pairs == y.state_pairs
        && x.pair_outcomes == y.pair_outcomes
        && x.next == y.next
        && x.probability.len() == y.probability.len()
        && (0..x.probability.len())
            .all(|j| (x.probability.at(j) - y.probability.at(j)).abs() <= 1e-12)
        && x.pair_reward
            .iter()
            .zip(y.pair_reward)
            .all(|(p, q)| (p - q).abs() <= 1e-12 * (1.0 + p.abs()))
}

/// Exact value of a policy (pair indices of a model with the same pairs).
fn policy_value(model: &TabularMdp, discount: f64, policy: &[usize]) -> Vec<f64> {
    let mut v: Vec<f64> = (0..model.n_states())
        .map(|s| model.terminal_value(s))
        .collect();
    evaluate(model, discount, policy, &mut v);
    v
}

/// Optimal values of `model` with the pairs of `fixed` (a prefix of states, or empty)
/// imposed, by policy iteration with exact evaluation (agent score `σ·q`); returns values (in
/// model units) and the policy.
fn restricted_optimum(
    model: &TabularMdp,
    sign: f64,
    discount: f64,
    fixed: &[usize],
) -> (Vec<f64>, Vec<usize>) {
    let n = model.n_states();
    let csr = model.csr();
    let mut policy: Vec<usize> = (0..n)
        .map(|s| {
            if let Some(&k) = fixed.get(s) {
                return k;
            }
            let pairs = model.pairs(StateId(s as u32));
            if pairs.is_empty() {
                NO_PAIR
            } else {
                pairs.start
            }
        })
        .collect();
    let mut v = vec![0.0; n];
    for _ in 0..10_000 {
        v = policy_value(model, discount, &policy);
        let magnitude = v.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let tie = 1e-11 * magnitude;
        let mut changed = false;
        for (s, chosen) in policy.iter_mut().enumerate().skip(fixed.len()) {
            if *chosen == NO_PAIR {
                continue;
            }
            let current = sign * pair_q(&csr, *chosen, discount, &v);
            let mut best = (current, *chosen);
            for k in model.pairs(StateId(s as u32)) {
                let q = sign * pair_q(&csr, k, discount, &v);
                if q > best.0 + tie {
                    best = (q, k);
                }
            }
            if best.1 != *chosen {
                *chosen = best.1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (v, policy)
}

/// Greedy for `min_j σ·Q*_j(s, a)`.
fn greedy_min_q(found: &[TabularMdp], optima: &[Vec<f64>], sign: f64, discount: f64) -> Vec<usize> {
    let first = &found[0];
    let n = first.n_states();
    (0..n)
        .map(|s| {
            let pairs = first.pairs(StateId(s as u32));
            if pairs.is_empty() {
                return NO_PAIR;
            }
            let mut best = (f64::NEG_INFINITY, pairs.start);
            for k in pairs {
                let q = found
                    .iter()
                    .zip(optima)
                    .map(|(m, v)| {
                        // optima are σ·V; σ·q = σ r + γ Σ p σV.
                        let vm: Vec<f64> = v.iter().map(|x| sign * x).collect();
                        sign * pair_q(&m.csr(), k, discount, &vm)
                    })
                    .fold(f64::INFINITY, f64::min);
                if q > best.0 {
                    best = (q, k);
                }
            }
            best.1
        })
        .collect()
}

/// `max_π min_j σ·V^π_j(s0)` over deterministic policies by depth-first branch and bound on
/// the states in id order. Returns the best policy found and an upper bound on the maximum
/// (the incumbent's value when the search finished, else the largest bound left open).
fn branch_and_bound(
    found: &[TabularMdp],
    sign: f64,
    discount: f64,
    s0: usize,
    incumbent: Vec<usize>,
    node_limit: usize,
) -> (Vec<usize>, f64) {
    let model = &found[0];
    let n = model.n_states();
    let score = |policy: &[usize]| -> f64 {
        found
            .iter()
            .map(|m| sign * policy_value(m, discount, policy)[s0])
            .fold(f64::INFINITY, f64::min)
    };
    let mut best_value = score(&incumbent);
    let mut best_policy = incumbent;
    let mut open_bound = f64::NEG_INFINITY;
    let mut nodes = 0usize;
    // Stack of partial assignments (pairs of states 0..len).
    let mut stack: Vec<Vec<usize>> = vec![Vec::new()];
    while let Some(prefix) = stack.pop() {
        // Bound: each model's optimum with the prefix fixed; their minimum.
        let mut bound = f64::INFINITY;
        let mut candidates = Vec::with_capacity(found.len());
        for m in found {
            let (v, policy) = restricted_optimum(m, sign, discount, &prefix);
            bound = bound.min(sign * v[s0]);
            candidates.push(policy);
        }
        nodes += 1;
        let slack = 1e-10 * (1.0 + bound.abs());
        if bound <= best_value + slack {
            continue;
        }
        // Each model's restricted optimum is a complete policy: a cheap incumbent.
        for policy in candidates {
            let value = score(&policy);
            if value > best_value {
                best_value = value;
                best_policy = policy;
            }
        }
        if bound <= best_value + slack {
            continue;
        }
        if prefix.len() == n {
            // A complete policy: its bound is its value.
            continue;
        }
        if nodes >= node_limit {
            open_bound = open_bound.max(bound);
            continue;
        }
        let s = prefix.len();
        let pairs = model.pairs(StateId(s as u32));
        if pairs.is_empty() {
            let mut child = prefix.clone();
            child.push(NO_PAIR);
            stack.push(child);
        } else {
            for k in pairs.rev() {
                let mut child = prefix.clone();
                child.push(k);
                stack.push(child);
            }
        }
    }
    (best_policy, best_value.max(open_bound))
}
