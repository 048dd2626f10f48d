//! The compiled tabular MDP (compressed sparse rows) and the only way to make one: the builder.
//!
//! **A `TabularMdp` is always valid**: it is built only by [`MdpBuilder::build`], which checks
//! every rule of PRODUCT.md's "Model semantics" and merges repeated outcomes.

use crate::error::{BuildError, Field, ModelError};
use crate::ids::{ActionId, StateId};
use crate::large_array::LargeArray;
use std::ops::Range;

/// How strictly a model is checked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ValidationOptions {
    /// Largest allowed `|Σ_s' p(s'|s,a) − 1|`. Default 1e-9; Cassandra files use 1e-5.
    pub probability_tolerance: f64,
    /// Keep outcomes whose probability is exactly 0 instead of dropping them. Off by default;
    /// a model with interval bounds keeps them, because nature may give them probability.
    pub keep_zero_probability: bool,
}

impl Default for ValidationOptions {
    fn default() -> Self {
        ValidationOptions {
            probability_tolerance: 1e-9,
            keep_zero_probability: false,
        }
    }
}

impl ValidationOptions {
    /// Options with the given probability-sum tolerance.
    pub fn with_tolerance(probability_tolerance: f64) -> Self {
        ValidationOptions {
            probability_tolerance,
            keep_zero_probability: false,
        }
    }
}

/// One outcome of a (state, action): next state, probability and reward.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// The state reached.
    pub next: StateId,
    /// Its probability.
    pub probability: f64,
    /// The reward collected on this transition (probability-weighted mean of merged rows).
    pub reward: f64,
}

/// What the builder did besides copying: shown by `decide info`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildSummary {
    /// Rows given to the builder.
    pub rows: u64,
    /// Rows whose (state, action, next state) key had appeared before: merged into it.
    pub merged_duplicates: u64,
    /// Distinct keys that appeared more than once.
    pub duplicate_keys: u64,
    /// Of those, keys whose rows carried different rewards (merged by probability weight).
    pub mixed_reward_keys: u64,
    /// Outcomes with probability exactly 0 after merging (dropped, they change nothing, unless
    /// [`ValidationOptions::keep_zero_probability`]).
    pub zero_probability_outcomes: u64,
    /// Largest `|Σ p − 1|` over all (state, action).
    pub max_probability_sum_deviation: f64,
}

/// A finite MDP in compressed sparse rows: states → their available actions ("pairs") →
/// outcomes. Ids are `u32`; expected rewards `r(s,a)` are pre-reduced for solving while the
/// per-outcome rewards are kept for simulation and output.
#[derive(Clone, Debug, PartialEq)]
pub struct TabularMdp {
    n_states: u32,
    n_actions: u32,
    /// `state_pairs[s]..state_pairs[s+1]` are the pairs of state `s`, by increasing action.
    state_pairs: LargeArray<usize>,
    pair_action: LargeArray<u32>,
    /// `pair_outcomes[k]..pair_outcomes[k+1]` are the outcomes of pair `k`, by increasing next.
    pair_outcomes: LargeArray<usize>,
    pair_reward: LargeArray<f64>,
    next: LargeArray<u32>,
    probability: ProbabilityArray,
    /// Per-outcome rewards; empty when the model gives its rewards per pair only (then every
    /// outcome of pair `k` reports `pair_reward[k]`), which saves 8 bytes per transition.
    reward: LargeArray<f64>,
    terminal: Vec<bool>,
    /// Value of each terminal state, indexed by state; empty when every terminal value is 0.
    terminal_value: Vec<f64>,
    max_outcomes: usize,
    state_names: Option<Vec<String>>,
    action_names: Option<Vec<String>>,
}

/// The probabilities of a model's outcomes as stored: exact (`f64`, always, unless asked) or
/// rounded to `f32`, which saves 4 bytes per transition for models that would not fit in
/// memory otherwise. A model with `f32` probabilities is an approximation: solvers certify
/// their results against the exact probabilities (see `decide_solve::mixed_precision`).
#[derive(Clone, Debug, PartialEq)]
pub enum ProbabilityArray {
    /// Exact.
    F64(LargeArray<f64>),
    /// Rounded to the nearest `f32`.
    F32(LargeArray<f32>),
}

impl Default for ProbabilityArray {
    fn default() -> Self {
        ProbabilityArray::F64(LargeArray::default())
    }
}

/// A probability as held in `f32`: the nearest `f32`, except that a positive probability
/// too small for `f32` (below about 1.4e-45) is held as the smallest positive `f32`, so
/// that it stays a positive probability.
#[inline]
pub fn round_probability(p: f64) -> f32 {
    let rounded = p as f32;
    if rounded == 0.0 && p > 0.0 {
        f32::from_bits(1)
    } else {
        rounded
    }
}

impl From<Vec<f64>> for ProbabilityArray {
    fn from(p: Vec<f64>) -> Self {
        ProbabilityArray::F64(p.into())
    }
}

impl From<LargeArray<f64>> for ProbabilityArray {
    fn from(p: LargeArray<f64>) -> Self {
        ProbabilityArray::F64(p)
    }
}

impl ProbabilityArray {
    /// Borrowed.
    pub fn view(&self) -> Probabilities<'_> {
        match self {
            ProbabilityArray::F64(p) => Probabilities::F64(p),
            ProbabilityArray::F32(p) => Probabilities::F32(p),
        }
    }
}

/// Borrowed [`ProbabilityArray`].
#[derive(Clone, Copy, Debug)]
pub enum Probabilities<'a> {
    /// Exact.
    F64(&'a [f64]),
    /// Rounded to the nearest `f32`.
    F32(&'a [f32]),
}

impl<'a> Probabilities<'a> {
    /// Probability of outcome `j`.
    #[inline]
    pub fn at(&self, j: usize) -> f64 {
        match self {
            Probabilities::F64(p) => p[j],
            Probabilities::F32(p) => f64::from(p[j]),
        }
    }
    /// Number of outcomes.
    pub fn len(&self) -> usize {
        match self {
            Probabilities::F64(p) => p.len(),
            Probabilities::F32(p) => p.len(),
        }
    }
    /// Whether there are no outcomes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Whether the probabilities are the model's exact ones (not rounded to `f32`).
    pub fn is_exact(&self) -> bool {
        matches!(self, Probabilities::F64(_))
    }
    /// The exact probabilities, or `None` for a model rounded to `f32`.
    pub fn exact(&self) -> Option<&'a [f64]> {
        match self {
            Probabilities::F64(p) => Some(p),
            Probabilities::F32(_) => None,
        }
    }
    /// Every probability as `f64`.
    pub fn to_vec(&self) -> Vec<f64> {
        (0..self.len()).map(|j| self.at(j)).collect()
    }
    /// Bytes held.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Probabilities::F64(p) => std::mem::size_of_val(*p),
            Probabilities::F32(p) => std::mem::size_of_val(*p),
        }
    }
}

/// The outcomes of a model — next states and exact probabilities, in the model's stored
/// order — from somewhere other than memory (a `.decide` file read again): what certifies a
/// model held with `f32` probabilities.
pub trait OutcomeSource: Send {
    /// Back to the first outcome.
    fn rewind(&mut self) -> std::io::Result<()>;
    /// The next `next.len()` outcomes (`probability` has the same length).
    fn read(&mut self, next: &mut [u32], probability: &mut [f64]) -> std::io::Result<()>;
}

/// Borrowed raw arrays of a [`TabularMdp`], for kernels that must not pay for iterators.
#[derive(Clone, Copy, Debug)]
pub struct CsrView<'a> {
    /// Pair range of each state (length `n_states + 1`).
    pub state_pairs: &'a [usize],
    /// Action id of each pair.
    pub pair_action: &'a [u32],
    /// Outcome range of each pair (length `n_pairs + 1`).
    pub pair_outcomes: &'a [usize],
    /// Expected one-step reward `r(s,a)` of each pair.
    pub pair_reward: &'a [f64],
    /// Next state of each outcome.
    pub next: &'a [u32],
    /// Probability of each outcome.
    pub probability: Probabilities<'a>,
    /// Terminal values by state (empty when all are 0).
    pub terminal_value: &'a [f64],
}

impl CsrView<'_> {
    /// The fixed value of terminal state `s` (0 when not given).
    #[inline]
    pub fn terminal_value(&self, s: usize) -> f64 {
        self.terminal_value.get(s).copied().unwrap_or(0.0)
    }
}

impl TabularMdp {
    /// Number of states.
    pub fn n_states(&self) -> usize {
        self.n_states as usize
    }
    /// Number of action ids (`0..n_actions`); a state may have only some of them.
    pub fn n_actions(&self) -> usize {
        self.n_actions as usize
    }
    /// Number of available (state, action) pairs.
    pub fn n_pairs(&self) -> usize {
        self.pair_action.len()
    }
    /// Number of stored outcomes (after merging).
    pub fn n_transitions(&self) -> usize {
        self.next.len()
    }
    /// Largest number of outcomes of one pair.
    pub fn max_outcomes(&self) -> usize {
        self.max_outcomes
    }
    /// The raw arrays.
    pub fn csr(&self) -> CsrView<'_> {
        CsrView {
            state_pairs: &self.state_pairs,
            pair_action: &self.pair_action,
            pair_outcomes: &self.pair_outcomes,
            pair_reward: &self.pair_reward,
            next: &self.next,
            probability: self.probability.view(),
            terminal_value: &self.terminal_value,
        }
    }
    /// The pair indices of `state`.
    pub fn pairs(&self, state: StateId) -> Range<usize> {
        self.state_pairs[state.index()]..self.state_pairs[state.index() + 1]
    }
    /// The action of pair `k`.
    pub fn pair_action(&self, k: usize) -> ActionId {
        ActionId(self.pair_action[k])
    }
    /// Expected one-step reward of pair `k`.
    pub fn pair_reward(&self, k: usize) -> f64 {
        self.pair_reward[k]
    }
    /// The actions available in `state`, increasing.
    pub fn actions(&self, state: StateId) -> impl Iterator<Item = ActionId> + '_ {
        self.pairs(state).map(|k| ActionId(self.pair_action[k]))
    }
    /// The pair index of (state, action), if the action is available there.
    pub fn pair_of(&self, state: StateId, action: ActionId) -> Option<usize> {
        let range = self.pairs(state);
        let start = range.start;
        self.pair_action[range]
            .binary_search(&action.0)
            .ok()
            .map(|i| start + i)
    }
    /// The outcomes of pair `k`.
    pub fn outcomes(&self, k: usize) -> impl Iterator<Item = Outcome> + '_ {
        (self.pair_outcomes[k]..self.pair_outcomes[k + 1]).map(move |j| Outcome {
            next: StateId(self.next[j]),
            probability: self.probability.view().at(j),
            // A model with rewards per pair only reports r(s,a) on each of its outcomes.
            reward: if self.reward.is_empty() {
                self.pair_reward[k]
            } else {
                self.reward[j]
            },
        })
    }
    /// Whether `state` is terminal (no actions; its value is fixed, 0 unless given).
    pub fn is_terminal(&self, state: StateId) -> bool {
        self.terminal[state.index()]
    }
    /// The fixed value of a terminal state (0 unless the model gives one; 0 for others).
    #[inline]
    pub fn terminal_value(&self, state: usize) -> f64 {
        self.terminal_value.get(state).copied().unwrap_or(0.0)
    }
    /// Whether any terminal state has a nonzero value.
    pub fn has_terminal_values(&self) -> bool {
        !self.terminal_value.is_empty()
    }
    /// Names of the states, when the model gave them.
    pub fn state_names(&self) -> Option<&[String]> {
        self.state_names.as_deref()
    }
    /// Names of the actions, when the model gave them.
    pub fn action_names(&self) -> Option<&[String]> {
        self.action_names.as_deref()
    }
    /// Bytes held by the arrays of this model.
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        self.state_pairs.len() * size_of::<usize>()
            + self.pair_action.len() * size_of::<u32>()
            + self.pair_outcomes.len() * size_of::<usize>()
            + self.pair_reward.len() * size_of::<f64>()
            + self.next.len() * size_of::<u32>()
            + self.probability.view().memory_bytes()
            + self.reward.len() * size_of::<f64>()
            + self.terminal.len()
            + self.terminal_value.len() * size_of::<f64>()
    }
}

/// The arrays of a [`TabularMdp`], owned: what a format that stores the compiled model
/// itself (decide's binary `.decide`) or a generator that produces it directly hands to
/// [`TabularMdp::from_raw_parts`], which checks every invariant the builder guarantees.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawParts {
    /// Number of states (at least 1, at most [`MAX_IDS`]).
    pub n_states: u64,
    /// Number of action ids (at most [`MAX_IDS`]).
    pub n_actions: u64,
    /// Pair range of each state: `n_states + 1` non-decreasing offsets from 0.
    pub state_pairs: LargeArray<usize>,
    /// Action of each pair, increasing within a state.
    pub pair_action: LargeArray<u32>,
    /// Outcome range of each pair: `n_pairs + 1` increasing offsets from 0 (no empty pair).
    pub pair_outcomes: LargeArray<usize>,
    /// Expected reward `r(s,a)` of each pair. With per-outcome rewards it must equal
    /// `Σ p·r` summed in outcome order, bit for bit (what the builder computes).
    pub pair_reward: LargeArray<f64>,
    /// Next state of each outcome, increasing within a pair.
    pub next: LargeArray<u32>,
    /// Probability of each outcome, in `(0, 1]`; each pair sums to 1 within the tolerance.
    pub probability: ProbabilityArray,
    /// Reward of each outcome, or `None` when the model gives rewards per pair only.
    pub reward: Option<LargeArray<f64>>,
    /// Terminal states, increasing. They have no pairs.
    pub terminal: Vec<u32>,
    /// Fixed values of the terminal states, in the order of `terminal`; empty when all are 0.
    pub terminal_values: Vec<f64>,
    /// Names of the states (one per state), if any.
    pub state_names: Option<Vec<String>>,
    /// Names of the actions (one per action id), if any.
    pub action_names: Option<Vec<String>>,
}

/// Why [`TabularMdp::from_raw_parts`] refused its arrays.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RawPartsError {
    /// The arrays describe an invalid model (a probability sum, an id out of range, ...).
    #[error("{0}")]
    Model(#[from] ModelError),
    /// The arrays are inconsistent with each other (lengths, offsets, order).
    #[error("{0}")]
    Layout(String),
}

/// The arrays of a [`TabularMdp`], borrowed: what a writer of the compiled form needs.
#[derive(Clone, Copy, Debug)]
pub struct RawView<'a> {
    /// Pair range of each state (`n_states + 1` offsets).
    pub state_pairs: &'a [usize],
    /// Action of each pair.
    pub pair_action: &'a [u32],
    /// Outcome range of each pair (`n_pairs + 1` offsets).
    pub pair_outcomes: &'a [usize],
    /// Expected reward of each pair.
    pub pair_reward: &'a [f64],
    /// Next state of each outcome.
    pub next: &'a [u32],
    /// Probability of each outcome.
    pub probability: Probabilities<'a>,
    /// Reward of each outcome; `None` when the model has rewards per pair only.
    pub reward: Option<&'a [f64]>,
    /// Whether each state is terminal.
    pub terminal: &'a [bool],
    /// Terminal values by state (empty when all are 0).
    pub terminal_value: &'a [f64],
}

impl TabularMdp {
    /// The raw arrays, for writers of the compiled form.
    pub fn raw(&self) -> RawView<'_> {
        RawView {
            state_pairs: &self.state_pairs,
            pair_action: &self.pair_action,
            pair_outcomes: &self.pair_outcomes,
            pair_reward: &self.pair_reward,
            next: &self.next,
            probability: self.probability.view(),
            reward: (!self.reward.is_empty() || self.next.is_empty()).then_some(&self.reward[..]),
            terminal: &self.terminal,
            terminal_value: &self.terminal_value,
        }
    }

    /// Whether the model keeps a reward per outcome (`false`: rewards per pair only, each
    /// outcome reporting its pair's expected reward).
    pub fn has_outcome_rewards(&self) -> bool {
        !self.reward.is_empty() || self.next.is_empty()
    }

    /// The same model with its probabilities rounded to `f32` (see [`ProbabilityArray`]):
    /// 4 bytes less per transition, an approximation that solvers certify against the exact
    /// probabilities. A model already rounded is returned as it is.
    pub fn with_f32_probabilities(mut self) -> TabularMdp {
        if let ProbabilityArray::F64(exact) = &self.probability {
            let mut rounded = LargeArray::<f32>::zeroed(exact.len());
            for (r, &p) in rounded.iter_mut().zip(exact.iter()) {
                *r = round_probability(p);
            }
            self.probability = ProbabilityArray::F32(rounded);
        }
        self
    }

    /// The same model with rewards per pair only: solving needs nothing more, and it saves
    /// 8 bytes per transition. Each outcome then reports its pair's expected reward.
    pub fn without_outcome_rewards(mut self) -> TabularMdp {
        self.reward = LargeArray::default();
        self
    }

    /// A model from its arrays, checked as thoroughly as [`MdpBuilder::build`] checks rows:
    /// counts, offsets, id ranges and order, finiteness, `0 < p ≤ 1`, probability sums
    /// within `options`, expected rewards consistent with outcome rewards, every non-terminal
    /// state with an action and no terminal state with one. So a `TabularMdp` stays always
    /// valid whatever the arrays came from. The summary counts each outcome as one row.
    pub fn from_raw_parts(
        parts: RawParts,
        options: ValidationOptions,
    ) -> Result<(TabularMdp, BuildSummary), RawPartsError> {
        let RawParts {
            n_states,
            n_actions,
            state_pairs,
            pair_action,
            pair_outcomes,
            pair_reward,
            next,
            probability,
            reward,
            terminal,
            terminal_values,
            state_names,
            action_names,
        } = parts;
        let layout = |message: String| Err(RawPartsError::Layout(message));
        let probabilities = probability.view();
        // Probabilities rounded to f32 move each sum by at most 2^-24 relative: allowed on top
        // of the tolerance (the exact values are checked where they are read).
        let sum_tolerance = match probabilities {
            Probabilities::F64(_) => options.probability_tolerance,
            Probabilities::F32(_) => options.probability_tolerance + f64::from(f32::EPSILON),
        };
        let n_states = checked_count("state", n_states)?;
        let n_actions = checked_count("action", n_actions)?;
        if n_states == 0 {
            return Err(ModelError::Empty.into());
        }
        let (ns, np, nt) = (n_states as usize, pair_action.len(), next.len());
        if state_pairs.len() != ns + 1 {
            return layout(format!(
                "{} state offsets for {ns} states (expected {})",
                state_pairs.len(),
                ns + 1
            ));
        }
        if pair_outcomes.len() != np + 1 || pair_reward.len() != np {
            return layout(format!(
                "{np} pairs but {} outcome offsets and {} expected rewards",
                pair_outcomes.len(),
                pair_reward.len()
            ));
        }
        if probabilities.len() != nt || reward.as_ref().is_some_and(|r| r.len() != nt) {
            return layout(format!(
                "{nt} next states but {} probabilities and {} rewards",
                probabilities.len(),
                reward.as_ref().map_or(nt, |r| r.len())
            ));
        }
        if state_pairs[0] != 0 || state_pairs[ns] != np {
            return layout(format!(
                "state offsets must run from 0 to {np}, found {} to {}",
                state_pairs[0], state_pairs[ns]
            ));
        }
        if pair_outcomes[0] != 0 || pair_outcomes[np] != nt {
            return layout(format!(
                "outcome offsets must run from 0 to {nt}, found {} to {}",
                pair_outcomes[0], pair_outcomes[np]
            ));
        }
        if let Some(s) = state_pairs.windows(2).position(|w| w[0] > w[1]) {
            return layout(format!("state offsets decrease at state {s}"));
        }
        if let Some(k) = pair_outcomes.windows(2).position(|w| w[0] >= w[1]) {
            return layout(format!("pair {k} has no outcomes (offsets must increase)"));
        }
        if !terminal_values.is_empty() && terminal_values.len() != terminal.len() {
            return layout(format!(
                "{} terminal states but {} terminal values",
                terminal.len(),
                terminal_values.len()
            ));
        }
        for (role, names, count) in [
            ("state", &state_names, ns),
            ("action", &action_names, n_actions as usize),
        ] {
            if let Some(names) = names {
                if names.len() != count {
                    return layout(format!("{} {role} names for {count} {role}s", names.len()));
                }
            }
        }
        let mut is_terminal = vec![false; ns];
        let mut terminal_value = Vec::new();
        for (i, &t) in terminal.iter().enumerate() {
            if t >= n_states {
                return Err(ModelError::StateOutOfRange {
                    role: "terminal state",
                    id: t as u64,
                    n_states: n_states as u64,
                }
                .into());
            }
            if i > 0 && terminal[i - 1] >= t {
                return layout(format!("terminal states are not increasing at {t}"));
            }
            is_terminal[t as usize] = true;
            if let Some(&value) = terminal_values.get(i) {
                if !value.is_finite() {
                    return Err(ModelError::NonFiniteTerminalValue {
                        state: StateId(t),
                        value,
                    }
                    .into());
                }
                if value != 0.0 {
                    terminal_value.resize(ns, 0.0);
                    terminal_value[t as usize] = value + 0.0;
                }
            }
        }

        // The checks read plain slices: indexing a `LargeArray` element by element would go
        // through its `Deref` every time (measured: a third of the time of loading a model).
        let (summary, max_outcomes) = {
            let state_pairs: &[usize] = &state_pairs;
            let pair_action: &[u32] = &pair_action;
            let pair_outcomes: &[usize] = &pair_outcomes;
            let pair_reward: &[f64] = &pair_reward;
            let next: &[u32] = &next;
            let reward: Option<&[f64]> = reward.as_deref();
            let mut summary = BuildSummary {
                rows: nt as u64,
                ..BuildSummary::default()
            };
            let mut max_outcomes = 0usize;
            for s in 0..ns {
                let pairs = state_pairs[s]..state_pairs[s + 1];
                let state = StateId(s as u32);
                if pairs.is_empty() && !is_terminal[s] {
                    return Err(ModelError::NoActions { state }.into());
                }
                if !pairs.is_empty() && is_terminal[s] {
                    return layout(format!("terminal state {state} has actions"));
                }
                for k in pairs.clone() {
                    let a = pair_action[k];
                    let action = ActionId(a);
                    if a >= n_actions {
                        return Err(ModelError::ActionOutOfRange {
                            id: a as u64,
                            n_actions: n_actions as u64,
                        }
                        .into());
                    }
                    if k > pairs.start && pair_action[k - 1] >= a {
                        return layout(format!(
                            "state {state}: actions are not increasing at {action}"
                        ));
                    }
                    let outcomes = pair_outcomes[k]..pair_outcomes[k + 1];
                    max_outcomes = max_outcomes.max(outcomes.len());
                    let mut sum = 0.0;
                    let mut expected = 0.0;
                    for j in outcomes.clone() {
                        let (n, p) = (next[j], probabilities.at(j));
                        if n >= n_states {
                            return Err(ModelError::StateOutOfRange {
                                role: "next state",
                                id: n as u64,
                                n_states: n_states as u64,
                            }
                            .into());
                        }
                        if j > outcomes.start && next[j - 1] >= n {
                            return layout(format!(
                                "state {state}, action {action}: next states are not increasing at {}",
                                StateId(n)
                            ));
                        }
                        if !p.is_finite() {
                            return Err(ModelError::NonFinite {
                                state,
                                action,
                                field: Field::Probability,
                                value: p,
                            }
                            .into());
                        }
                        if !(p > 0.0 && p <= 1.0) {
                            return Err(ModelError::ProbabilityOutOfRange {
                                state,
                                action,
                                next: StateId(n),
                                probability: p,
                            }
                            .into());
                        }
                        sum += p;
                        if let Some(reward) = &reward {
                            let r = reward[j];
                            if !r.is_finite() {
                                return Err(ModelError::NonFinite {
                                    state,
                                    action,
                                    field: Field::Reward,
                                    value: r,
                                }
                                .into());
                            }
                            expected += p * r;
                        }
                    }
                    let deviation = (sum - 1.0).abs();
                    summary.max_probability_sum_deviation =
                        summary.max_probability_sum_deviation.max(deviation);
                    if deviation > sum_tolerance || sum.is_nan() {
                        return Err(ModelError::ProbabilitySum {
                            state,
                            action,
                            sum,
                            tolerance: sum_tolerance,
                        }
                        .into());
                    }
                    let stored = pair_reward[k];
                    if !stored.is_finite() {
                        return Err(ModelError::NonFinite {
                            state,
                            action,
                            field: Field::Reward,
                            value: stored,
                        }
                        .into());
                    }
                    if reward.is_some() && stored != expected {
                        return layout(format!(
                            "state {state}, action {action}: expected reward {stored} differs from {expected}, the sum of its outcomes' probability × reward"
                        ));
                    }
                }
            }
            (summary, max_outcomes)
        };
        Ok((
            TabularMdp {
                n_states,
                n_actions,
                state_pairs,
                pair_action,
                pair_outcomes,
                pair_reward,
                next,
                probability,
                reward: reward.unwrap_or_default(),
                terminal: is_terminal,
                terminal_value,
                max_outcomes,
                state_names,
                action_names,
            },
            summary,
        ))
    }
}

#[derive(Clone, Copy, Debug)]
struct Row {
    state: u32,
    action: u32,
    next: u32,
    probability: f64,
    reward: f64,
    origin: u64,
}

/// Collects outcome rows, then checks and compiles them into a [`TabularMdp`].
///
/// Rows may come in any order; repeated `(state, action, next)` rows are merged at
/// [`build`](Self::build): probabilities add, rewards are probability-weighted.
#[derive(Clone, Debug, Default)]
pub struct MdpBuilder {
    rows: Vec<Row>,
    n_states: Option<u32>,
    n_actions: Option<u32>,
    terminal: Vec<(u32, f64)>,
    options: ValidationOptions,
    state_names: Option<Vec<String>>,
    action_names: Option<Vec<String>>,
    max_id_seen: (u32, u32),
}

/// The largest count of states or actions: ids are `u32` and one value is kept free.
pub const MAX_IDS: u64 = u32::MAX as u64;

/// Bytes a compiled model holds per state: its pair range start and terminal flag.
const STATE_BYTES: u64 = (std::mem::size_of::<usize>() + std::mem::size_of::<bool>()) as u64;
/// Bytes per (state, action) pair: action id, outcome range start, expected reward.
const PAIR_BYTES: u64 =
    (std::mem::size_of::<u32>() + std::mem::size_of::<usize>() + std::mem::size_of::<f64>()) as u64;
/// Bytes per stored outcome: next state, probability, reward.
const OUTCOME_BYTES: u64 = (std::mem::size_of::<u32>() + 2 * std::mem::size_of::<f64>()) as u64;
/// Bytes the builder holds per row until it builds.
const ROW_BYTES: u64 = std::mem::size_of::<Row>() as u64;

fn checked_count(what: &'static str, count: u64) -> Result<u32, ModelError> {
    if count > MAX_IDS {
        return Err(ModelError::TooLarge {
            what,
            count,
            max: MAX_IDS,
        });
    }
    Ok(count as u32)
}

impl MdpBuilder {
    /// An empty builder with default validation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the validation options.
    pub fn options(&mut self, options: ValidationOptions) -> &mut Self {
        self.options = options;
        self
    }

    /// Declares the number of states; rows naming a state at or beyond it are rejected.
    /// Without it, the count is one more than the largest id seen.
    pub fn declare_states(&mut self, n_states: u64) -> Result<&mut Self, ModelError> {
        self.n_states = Some(checked_count("state", n_states)?);
        Ok(self)
    }

    /// Declares the number of actions (see [`declare_states`](Self::declare_states)).
    pub fn declare_actions(&mut self, n_actions: u64) -> Result<&mut Self, ModelError> {
        self.n_actions = Some(checked_count("action", n_actions)?);
        Ok(self)
    }

    /// The declared number of states, if any.
    pub fn declared_states(&self) -> Option<u64> {
        self.n_states.map(u64::from)
    }

    /// Gives names to the states (index order).
    pub fn state_names(&mut self, names: Vec<String>) -> &mut Self {
        self.state_names = Some(names);
        self
    }

    /// Gives names to the actions (index order).
    pub fn action_names(&mut self, names: Vec<String>) -> &mut Self {
        self.action_names = Some(names);
        self
    }

    /// Marks a state terminal: it may have no actions, and its value is 0.
    pub fn mark_terminal(&mut self, state: u64) -> Result<&mut Self, ModelError> {
        self.mark_terminal_with_value(state, 0.0)
    }

    /// Marks a state terminal with a fixed value (collected on arrival, never discounted
    /// further): any actions listed for it are dropped.
    pub fn mark_terminal_with_value(
        &mut self,
        state: u64,
        value: f64,
    ) -> Result<&mut Self, ModelError> {
        let s = self.check_state("state", state)?;
        if !value.is_finite() {
            return Err(ModelError::NonFiniteTerminalValue {
                state: StateId(s),
                value,
            });
        }
        self.terminal.push((s, value + 0.0));
        Ok(self)
    }

    /// Number of rows added so far.
    pub fn n_rows(&self) -> usize {
        self.rows.len()
    }

    /// A lower bound on the memory, in bytes, that building this model takes at its peak
    /// (the rows held plus the compiled arrays) once `more_rows` further rows are added.
    ///
    /// Every state not marked terminal needs at least one row, pair and outcome, or the
    /// build fails; so the bound is known as soon as the counts are declared, and a reader
    /// can compare it with the memory available to refuse a model that cannot fit before
    /// allocating anything for it (a declared 4 000 000 000 states needs hundreds of GiB).
    pub fn required_bytes(&self, more_rows: u64) -> u64 {
        let n_states = self.n_states_so_far();
        let non_terminal = n_states.saturating_sub(self.terminal.len() as u64);
        let rows = (self.rows.len() as u64)
            .saturating_add(more_rows)
            .max(non_terminal);
        n_states
            .saturating_add(1)
            .saturating_mul(STATE_BYTES)
            .saturating_add(non_terminal.saturating_mul(PAIR_BYTES))
            .saturating_add(rows.saturating_mul(ROW_BYTES + OUTCOME_BYTES))
            .saturating_add(self.names_bytes())
    }

    /// A lower bound on the memory, in bytes, of the model this builder compiles to, with the
    /// counts so far and whatever rows it has: the per-state arrays, one pair and one outcome
    /// for every state not marked terminal, and the names. A model kept as one compiled model
    /// per stage needs this for each stage; a reader multiplies it by the number of stages
    /// before making a builder for each (the rows held meanwhile are not counted).
    pub fn compiled_bytes(&self) -> u64 {
        let n_states = self.n_states_so_far();
        let non_terminal = n_states.saturating_sub(self.terminal.len() as u64);
        n_states
            .saturating_add(1)
            .saturating_mul(STATE_BYTES)
            .saturating_add(non_terminal.saturating_mul(PAIR_BYTES + OUTCOME_BYTES))
            .saturating_add(self.names_bytes())
    }

    /// Bytes the state and action names hold: each a `String` and its text.
    fn names_bytes(&self) -> u64 {
        [&self.state_names, &self.action_names]
            .into_iter()
            .flatten()
            .flatten()
            .map(|name| (std::mem::size_of::<String>() + name.len()) as u64)
            .fold(0, u64::saturating_add)
    }

    /// The number of states so far: the declared count, else one more than the largest
    /// state id used (0 when none is).
    pub fn n_states_so_far(&self) -> u64 {
        self.n_states
            .map_or_else(|| self.inferred_states(), u64::from)
    }

    /// The number of actions so far: the declared count, else one more than the largest
    /// action id used (0 when none is).
    pub fn n_actions_so_far(&self) -> u64 {
        match (self.n_actions, self.rows.is_empty()) {
            (Some(n), _) => u64::from(n),
            (None, true) => 0,
            (None, false) => self.max_id_seen.1 as u64 + 1,
        }
    }

    /// One more than the largest state id used so far (0 when none is).
    fn inferred_states(&self) -> u64 {
        let from_rows = if self.rows.is_empty() {
            0
        } else {
            self.max_id_seen.0 as u64 + 1
        };
        let from_terminal = self.terminal.iter().map(|&(t, _)| t as u64 + 1).max();
        from_rows.max(from_terminal.unwrap_or(0))
    }

    /// Reserves room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        self.rows.reserve(additional);
    }

    fn check_state(&self, role: &'static str, id: u64) -> Result<u32, ModelError> {
        let limit = self.n_states.map_or(MAX_IDS, u64::from);
        if id >= limit {
            return Err(ModelError::StateOutOfRange {
                role,
                id,
                n_states: limit,
            });
        }
        Ok(id as u32)
    }

    fn check_action(&self, id: u64) -> Result<u32, ModelError> {
        let limit = self.n_actions.map_or(MAX_IDS, u64::from);
        if id >= limit {
            return Err(ModelError::ActionOutOfRange {
                id,
                n_actions: limit,
            });
        }
        Ok(id as u32)
    }

    /// Adds one outcome row. Ids, finiteness and `0 ≤ p ≤ 1` are checked now; sums at build.
    pub fn add(
        &mut self,
        state: u64,
        action: u64,
        next: u64,
        probability: f64,
        reward: f64,
    ) -> Result<(), ModelError> {
        self.add_at(state, action, next, probability, reward, 0)
    }

    /// Like [`add`](Self::add), tagging the row with an origin (a 1-based line number) that
    /// [`BuildError::origin`] reports if this row's (state, action) turns out to be invalid.
    pub fn add_at(
        &mut self,
        state: u64,
        action: u64,
        next: u64,
        probability: f64,
        reward: f64,
        origin: u64,
    ) -> Result<(), ModelError> {
        let s = self.check_state("state", state)?;
        let a = self.check_action(action)?;
        let n = self.check_state("next state", next)?;
        let (sid, aid) = (StateId(s), ActionId(a));
        if !probability.is_finite() {
            return Err(ModelError::NonFinite {
                state: sid,
                action: aid,
                field: Field::Probability,
                value: probability,
            });
        }
        if !reward.is_finite() {
            return Err(ModelError::NonFinite {
                state: sid,
                action: aid,
                field: Field::Reward,
                value: reward,
            });
        }
        if !(0.0..=1.0).contains(&probability) {
            return Err(ModelError::ProbabilityOutOfRange {
                state: sid,
                action: aid,
                next: StateId(n),
                probability,
            });
        }
        self.max_id_seen.0 = self.max_id_seen.0.max(s.max(n));
        self.max_id_seen.1 = self.max_id_seen.1.max(a);
        self.rows.push(Row {
            state: s,
            action: a,
            next: n,
            // -0.0 and 0.0 mean the same; store +0.0 so output never shows "-0".
            probability: probability + 0.0,
            reward,
            origin,
        });
        Ok(())
    }

    /// Checks the rows against the model semantics, merges repeated outcomes, and compiles.
    pub fn build(self) -> Result<(TabularMdp, BuildSummary), BuildError> {
        let MdpBuilder {
            mut rows,
            n_states,
            n_actions,
            terminal,
            options,
            state_names,
            action_names,
            max_id_seen,
        } = self;
        let inferred_states = if rows.is_empty() && terminal.is_empty() {
            0
        } else {
            max_id_seen.0 as u64 + 1
        }
        .max(
            terminal
                .iter()
                .map(|&(t, _)| t as u64 + 1)
                .max()
                .unwrap_or(0),
        );
        let n_states = match n_states {
            Some(n) => n,
            None => checked_count("state", inferred_states)?,
        };
        if n_states == 0 {
            return Err(ModelError::Empty.into());
        }
        let n_actions = match n_actions {
            Some(n) => n,
            None if rows.is_empty() => 0,
            None => checked_count("action", max_id_seen.1 as u64 + 1)?,
        };
        sort_rows(&mut rows);
        if u64::from(n_states) > rows.len() as u64 + terminal.len() as u64 {
            // Some state has neither a row nor a terminal mark: the model is invalid
            // whatever else it says. Say which state before allocating anything per state,
            // so that a huge declared or implied count with few rows fails at once.
            let mut terminal_ids: Vec<u32> = terminal.iter().map(|&(t, _)| t).collect();
            terminal_ids.sort_unstable();
            if let Some(state) = first_state_without_rows(&rows, &terminal_ids, n_states) {
                return Err(ModelError::NoActions {
                    state: StateId(state),
                }
                .into());
            }
        }

        let mut summary = BuildSummary {
            rows: rows.len() as u64,
            ..BuildSummary::default()
        };
        let mut is_terminal = vec![false; n_states as usize];
        let mut terminal_value = Vec::new();
        for &(t, value) in &terminal {
            if t >= n_states {
                return Err(ModelError::StateOutOfRange {
                    role: "terminal state",
                    id: t as u64,
                    n_states: n_states as u64,
                }
                .into());
            }
            is_terminal[t as usize] = true;
            if value != 0.0 {
                terminal_value.resize(n_states as usize, 0.0);
            }
        }
        if !terminal_value.is_empty() {
            // Later marks win, like every other "last write" in the readers.
            for &(t, value) in &terminal {
                terminal_value[t as usize] = value;
            }
            if terminal_value.iter().all(|&v| v == 0.0) {
                // A later mark reset every nonzero value: store nothing, as if none had
                // been given, so that equal models compare equal (and round-trip).
                terminal_value = Vec::new();
            }
        }
        let mut state_pairs = Vec::with_capacity(n_states as usize + 1);
        let mut pair_action = Vec::new();
        let mut pair_outcomes = vec![0usize];
        let mut pair_reward = Vec::new();
        let mut next = Vec::with_capacity(rows.len());
        let mut probability = Vec::with_capacity(rows.len());
        let mut reward = Vec::with_capacity(rows.len());
        let mut max_outcomes = 0usize;

        let mut i = 0;
        for s in 0..n_states {
            state_pairs.push(pair_action.len());
            let state_start = i;
            while i < rows.len() && rows[i].state == s {
                let a = rows[i].action;
                let pair_start = i;
                let mut first_origin = rows[i].origin;
                let mut sum = 0.0;
                let mut expected = 0.0;
                let outcomes_before = next.len();
                while i < rows.len() && rows[i].state == s && rows[i].action == a {
                    let n = rows[i].next;
                    let key_start = i;
                    let mut p = 0.0;
                    let mut pr = 0.0;
                    while i < rows.len()
                        && rows[i].state == s
                        && rows[i].action == a
                        && rows[i].next == n
                    {
                        p += rows[i].probability;
                        pr += rows[i].probability * rows[i].reward;
                        if rows[i].origin != 0
                            && (first_origin == 0 || rows[i].origin < first_origin)
                        {
                            first_origin = rows[i].origin;
                        }
                        i += 1;
                    }
                    let count = (i - key_start) as u64;
                    if count > 1 {
                        summary.merged_duplicates += count - 1;
                        summary.duplicate_keys += 1;
                        let r0 = rows[key_start].reward;
                        if rows[key_start..i].iter().any(|r| r.reward != r0) {
                            summary.mixed_reward_keys += 1;
                        }
                    }
                    sum += p;
                    if p > 0.0 || (options.keep_zero_probability && p == 0.0) {
                        let merged_reward = if count == 1 || p == 0.0 {
                            rows[key_start].reward
                        } else {
                            pr / p
                        };
                        // From the merged outcome, so that a model written and read back
                        // has bit-identical expected rewards.
                        expected += p * merged_reward;
                        next.push(n);
                        probability.push(p);
                        reward.push(merged_reward);
                    } else {
                        summary.zero_probability_outcomes += 1;
                    }
                }
                let deviation = (sum - 1.0).abs();
                summary.max_probability_sum_deviation =
                    summary.max_probability_sum_deviation.max(deviation);
                if deviation > options.probability_tolerance || sum.is_nan() {
                    return Err(BuildError {
                        origin: (first_origin != 0).then_some(first_origin),
                        error: ModelError::ProbabilitySum {
                            state: StateId(s),
                            action: ActionId(a),
                            sum,
                            tolerance: options.probability_tolerance,
                        },
                    });
                }
                let _ = pair_start;
                if !is_terminal[s as usize] {
                    // A terminal state's pairs are dropped below: they must leave no trace,
                    // or a model written and read back would differ (found by fuzzing).
                    max_outcomes = max_outcomes.max(next.len() - outcomes_before);
                }
                pair_action.push(a);
                pair_reward.push(expected);
                pair_outcomes.push(next.len());
            }
            if i == state_start && !is_terminal[s as usize] {
                return Err(ModelError::NoActions { state: StateId(s) }.into());
            }
            if is_terminal[s as usize] && i > state_start {
                // A terminal state keeps no actions: its value is fixed at 0.
                pair_action.truncate(state_pairs[s as usize]);
                pair_reward.truncate(state_pairs[s as usize]);
                pair_outcomes.truncate(state_pairs[s as usize] + 1);
                let keep = *pair_outcomes.last().unwrap_or(&0);
                next.truncate(keep);
                probability.truncate(keep);
                reward.truncate(keep);
            }
        }
        state_pairs.push(pair_action.len());
        debug_assert_eq!(i, rows.len(), "every row belongs to a state below n_states");

        Ok((
            TabularMdp {
                n_states,
                n_actions,
                state_pairs: state_pairs.into(),
                pair_action: pair_action.into(),
                pair_outcomes: pair_outcomes.into(),
                pair_reward: pair_reward.into(),
                next: next.into(),
                probability: ProbabilityArray::F64(probability.into()),
                reward: reward.into(),
                terminal: is_terminal,
                terminal_value,
                max_outcomes,
                state_names,
                action_names,
            },
            summary,
        ))
    }
}

/// The first state below `n_states` with no row (in `rows`, sorted by state) that is not in
/// `terminal` (sorted). Stops at the first gap, so it takes O(rows + terminals) steps.
fn first_state_without_rows(rows: &[Row], terminal: &[u32], n_states: u32) -> Option<u32> {
    let (mut r, mut t) = (0, 0);
    for s in 0..n_states {
        while rows.get(r).is_some_and(|row| row.state < s) {
            r += 1;
        }
        while terminal.get(t).is_some_and(|&id| id < s) {
            t += 1;
        }
        let has_rows = rows.get(r).is_some_and(|row| row.state == s);
        let is_terminal = terminal.get(t) == Some(&s);
        if !has_rows && !is_terminal {
            return Some(s);
        }
    }
    None
}

/// Orders rows by (state, action, next). Stable, so rows with the same key stay in file
/// order and merging is deterministic. Files are usually grouped by (state, action) already
/// (every reference file is); then only each pair's few outcomes need sorting.
fn sort_rows(rows: &mut [Row]) {
    let pair = |r: &Row| (r.state, r.action);
    if rows.windows(2).all(|w| pair(&w[0]) <= pair(&w[1])) {
        let mut start = 0;
        while start < rows.len() {
            let key = pair(&rows[start]);
            let mut end = start + 1;
            while end < rows.len() && pair(&rows[end]) == key {
                end += 1;
            }
            let group = &mut rows[start..end];
            if !group.windows(2).all(|w| w[0].next <= w[1].next) {
                group.sort_by_key(|r| r.next);
            }
            start = end;
        }
    } else {
        rows.sort_by_key(|r| (r.state, r.action, r.next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_duplicates_by_probability_weight() {
        let mut b = MdpBuilder::new();
        b.add(0, 0, 1, 0.25, 0.0).unwrap();
        b.add(0, 0, 1, 0.25, 1.0).unwrap();
        b.add(0, 0, 0, 0.5, 2.0).unwrap();
        b.add(1, 0, 1, 1.0, 0.0).unwrap();
        let (m, s) = b.build().unwrap();
        assert_eq!(s.merged_duplicates, 1);
        assert_eq!(s.duplicate_keys, 1);
        assert_eq!(s.mixed_reward_keys, 1);
        let k = m.pair_of(StateId(0), ActionId(0)).unwrap();
        let outs: Vec<_> = m.outcomes(k).collect();
        assert_eq!(outs.len(), 2);
        assert_eq!(outs[1].next, StateId(1));
        assert_eq!(outs[1].probability, 0.5);
        assert_eq!(outs[1].reward, 0.5);
        assert_eq!(m.pair_reward(k), 0.25 + 1.0);
    }

    #[test]
    fn accepts_rounding_rejects_real_deviation() {
        let mut b = MdpBuilder::new();
        for n in 0..10 {
            b.add(0, 0, n, 0.1, 0.0).unwrap();
        }
        for n in 1..10 {
            b.mark_terminal(n).unwrap();
        }
        assert!(b.build().is_ok());

        let mut b = MdpBuilder::new();
        b.add_at(0, 0, 0, 0.49, 0.0, 7).unwrap();
        b.add_at(0, 0, 0, 0.49, 0.0, 8).unwrap();
        let e = b.build().unwrap_err();
        assert_eq!(e.origin, Some(7));
        assert!(e.to_string().contains("sum to 0.98"), "{e}");
    }

    #[test]
    fn rejects_each_bad_number() {
        let mut b = MdpBuilder::new();
        assert!(matches!(
            b.add(0, 0, 0, -0.1, 0.0),
            Err(ModelError::ProbabilityOutOfRange { .. })
        ));
        assert!(matches!(
            b.add(0, 0, 0, 1.0, f64::NAN),
            Err(ModelError::NonFinite {
                field: Field::Reward,
                ..
            })
        ));
        assert!(matches!(
            b.add(0, 0, 0, f64::INFINITY, 0.0),
            Err(ModelError::NonFinite {
                field: Field::Probability,
                ..
            })
        ));
        b.declare_states(2).unwrap();
        let e = b.add(0, 0, 2, 1.0, 0.0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "next state 2 is out of range (the model has 2 states, ids below 2)"
        );
        assert!(b.declare_states(5_000_000_000).is_err());
    }

    #[test]
    fn state_without_actions_is_an_error_unless_terminal() {
        let mut b = MdpBuilder::new();
        b.declare_states(2).unwrap();
        b.add(0, 0, 1, 1.0, 0.0).unwrap();
        assert_eq!(
            b.clone().build().unwrap_err().error,
            ModelError::NoActions { state: StateId(1) }
        );
        b.mark_terminal(1).unwrap();
        let (m, _) = b.build().unwrap();
        assert!(m.is_terminal(StateId(1)));
        assert_eq!(m.pairs(StateId(1)).len(), 0);
    }

    #[test]
    fn required_bytes_is_known_from_the_declared_count() {
        let mut b = MdpBuilder::new();
        b.declare_states(4_000_000_000).unwrap();
        // Every non-terminal state needs a row, a pair and an outcome: far beyond any RAM.
        assert!(
            b.required_bytes(0) > 300 * (1 << 30),
            "{}",
            b.required_bytes(0)
        );
        let mut small = MdpBuilder::new();
        small.declare_states(2).unwrap();
        small.add(0, 0, 1, 1.0, 0.0).unwrap();
        small.add(1, 0, 1, 1.0, 0.0).unwrap();
        let needed = small.required_bytes(0);
        let (m, _) = small.build().unwrap();
        assert!(
            needed >= m.memory_bytes() as u64,
            "a lower bound of the peak: {needed} < {}",
            m.memory_bytes()
        );
    }

    #[test]
    fn compiled_bytes_is_a_lower_bound_of_the_model_and_counts_names() {
        let mut b = MdpBuilder::new();
        b.declare_states(3).unwrap();
        b.mark_terminal(2).unwrap();
        b.add(0, 0, 1, 1.0, 0.0).unwrap();
        b.add(0, 1, 0, 0.5, 0.0).unwrap();
        b.add(0, 1, 1, 0.5, 0.0).unwrap();
        b.add(1, 0, 2, 1.0, 0.0).unwrap();
        let without_names = b.compiled_bytes();
        let (m, _) = b.clone().build().unwrap();
        assert!(
            without_names <= m.memory_bytes() as u64,
            "{without_names} > {}",
            m.memory_bytes()
        );
        b.state_names(vec!["a".repeat(1000), String::new(), "c".into()]);
        let names = (3 * std::mem::size_of::<String>() + 1001) as u64;
        assert_eq!(b.compiled_bytes(), without_names + names);
        // A declared count alone is enough to know it (4e9 states: tens of GiB per copy).
        let mut huge = MdpBuilder::new();
        huge.declare_states(4_000_000_000).unwrap();
        assert!(huge.compiled_bytes() > 30 * (1 << 30));
    }

    #[test]
    fn a_huge_count_with_few_rows_fails_without_allocating_per_state() {
        // Would need tens of GiB if the per-state arrays were allocated first.
        let mut b = MdpBuilder::new();
        b.declare_states(4_000_000_000).unwrap();
        b.add(0, 0, 0, 1.0, 0.0).unwrap();
        b.mark_terminal(1).unwrap();
        assert_eq!(
            b.build().unwrap_err().error,
            ModelError::NoActions { state: StateId(2) }
        );
        let mut implied = MdpBuilder::new();
        implied.add(4_294_967_294, 0, 0, 1.0, 0.0).unwrap();
        assert_eq!(
            implied.build().unwrap_err().error,
            ModelError::NoActions { state: StateId(0) }
        );
    }

    #[test]
    fn rows_of_a_terminal_state_leave_no_trace() {
        let mut with_rows = MdpBuilder::new();
        with_rows.add(0, 0, 1, 0.5, 0.0).unwrap();
        with_rows.add(0, 0, 0, 0.5, 0.0).unwrap();
        with_rows.add(1, 0, 1, 1.0, 0.0).unwrap();
        with_rows.mark_terminal(0).unwrap();
        let mut without = MdpBuilder::new();
        without.add(1, 0, 1, 1.0, 0.0).unwrap();
        without.mark_terminal(0).unwrap();
        let (with_rows, _) = with_rows.build().unwrap();
        assert_eq!(with_rows.max_outcomes(), 1);
        assert_eq!(with_rows, without.build().unwrap().0);
    }

    #[test]
    fn terminal_values_reset_to_zero_leave_no_values() {
        let mut b = MdpBuilder::new();
        b.add(0, 0, 1, 1.0, 0.0).unwrap();
        b.mark_terminal_with_value(1, 5.0).unwrap();
        b.mark_terminal_with_value(1, 0.0).unwrap();
        let (reset, _) = b.build().unwrap();
        assert!(!reset.has_terminal_values());
        let mut plain = MdpBuilder::new();
        plain.add(0, 0, 1, 1.0, 0.0).unwrap();
        plain.mark_terminal(1).unwrap();
        assert_eq!(reset, plain.build().unwrap().0);
    }
}
