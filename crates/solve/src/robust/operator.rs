//! The robust Bellman operator over a whole model: per pair the inner worst-case step of
//! [`super::inner`], per state the agent's best (deterministic for sa-rectangular sets,
//! randomised for s-rectangular ones), in parallel over states with per-state results that do
//! not depend on the chunking.
//!
//! Everything is computed in "agent maximises" form: with `σ = +1` for rewards and `−1` for
//! costs, outcome values are `σ·w`, nature minimises them, the agent maximises, and the state
//! value is `σ` times the result.

use super::inner::{self, dot};
use super::{Ambiguity, Rectangularity, RobustProblem};
use crate::bellman::NO_PAIR;
use crate::certificate::BackupStats;
use decide_core::{MdpBuilder, Sense, StateId, TabularMdp};
use rayon::prelude::*;

/// States per parallel task.
const CHUNK: usize = 1024;

/// Per-task buffers.
#[derive(Default)]
pub(crate) struct Scratch {
    w: Vec<f64>,
    p: Vec<f64>,
    /// Nature's distribution over the pair's nominal outcomes (not for finite sets).
    pub(crate) dist: Vec<f64>,
    order: Vec<usize>,
    /// Finite sets: the model nature picked.
    pub(crate) choice: usize,
    actions: Vec<(f64, Vec<(f64, f64)>)>,
    pub(crate) xi: Vec<f64>,
    pub(crate) weights: Vec<f64>,
}

/// The operator of one robust problem.
pub(crate) struct Operator<'a> {
    pub(crate) problem: RobustProblem<'a>,
    sign: f64,
    discount: f64,
    outcome_reward: Option<&'a [f64]>,
}

impl<'a> Operator<'a> {
    pub(crate) fn new(problem: &RobustProblem<'a>) -> Self {
        let raw = problem.model.raw();
        Operator {
            problem: *problem,
            sign: match problem.objective.sense {
                Sense::Maximize => 1.0,
                Sense::Minimize => -1.0,
            },
            discount: problem.objective.discount(),
            outcome_reward: raw.reward.filter(|r| !r.is_empty()),
        }
    }

    fn model(&self) -> &'a TabularMdp {
        self.problem.model
    }

    /// Largest number of outcomes of a pair in any model of the set.
    pub(crate) fn max_outcomes(&self) -> usize {
        match self.problem.ambiguity {
            Ambiguity::Finite(models) => models
                .iter()
                .map(TabularMdp::max_outcomes)
                .max()
                .unwrap_or(0)
                .max(self.model().max_outcomes()),
            _ => self.model().max_outcomes(),
        }
    }

    /// Largest `|r(s,a,s')|` any of nature's choices can bring.
    pub(crate) fn max_abs_reward(&self) -> f64 {
        let of = |m: &TabularMdp| {
            let raw = m.raw();
            let pairs = raw.pair_reward.iter().fold(0.0f64, |x, r| x.max(r.abs()));
            let outcomes = raw
                .reward
                .unwrap_or(&[])
                .iter()
                .fold(0.0f64, |x, r| x.max(r.abs()));
            pairs.max(outcomes)
        };
        match self.problem.ambiguity {
            Ambiguity::Finite(models) => models.iter().map(of).fold(of(self.model()), f64::max),
            _ => of(self.model()),
        }
    }

    /// Whether `state` is absorbing with reward 0 whatever nature does: not terminal, and
    /// every outcome of every pair (in the nominal model and, for a finite set, in every
    /// model of the set) returns to `state` with reward 0. Its robust value is exactly 0 for
    /// every policy, so the solvers report it as such instead of `0 ± the certificate`.
    pub(crate) fn absorbing_zero(&self, state: usize) -> bool {
        let id = StateId(state as u32);
        let zero_loop = |m: &TabularMdp| {
            let pairs = m.pairs(id);
            !pairs.is_empty()
                && pairs.into_iter().all(|k| {
                    m.pair_reward(k) == 0.0
                        && m.outcomes(k).all(|o| o.next == id && o.reward == 0.0)
                })
        };
        if self.model().is_terminal(id) || !zero_loop(self.model()) {
            return false;
        }
        match self.problem.ambiguity {
            Ambiguity::Finite(models) => models.iter().all(zero_loop),
            _ => true,
        }
    }

    /// Loads `σ·w` and `p` of nominal pair `k` into the scratch.
    fn load(&self, k: usize, v: &[f64], s: &mut Scratch) {
        let csr = self.model().csr();
        let range = csr.pair_outcomes[k]..csr.pair_outcomes[k + 1];
        s.w.clear();
        s.p.clear();
        for j in range {
            let r = match self.outcome_reward {
                Some(rewards) => rewards[j],
                None => csr.pair_reward[k],
            };
            s.w.push(self.sign * (r + self.discount * v[csr.next[j] as usize]));
            s.p.push(csr.probability.at(j));
        }
        s.dist.clear();
        s.dist.resize(s.p.len(), 0.0);
    }

    /// Nature's minimum of pair `k` in agent-maximises form, and the width of the bracket it
    /// is known to (0 for exact steps). Leaves nature's choice in the scratch.
    pub(crate) fn pair(&self, k: usize, v: &[f64], s: &mut Scratch) -> (f64, f64) {
        match self.problem.ambiguity {
            Ambiguity::Finite(models) => {
                let mut best = (f64::INFINITY, 0usize);
                for (m, model) in models.iter().enumerate() {
                    let q = self.sign * crate::bellman::pair_q(&model.csr(), k, self.discount, v);
                    if q < best.0 {
                        best = (q, m);
                    }
                }
                s.choice = best.1;
                (best.0, 0.0)
            }
            Ambiguity::L1 { radius } => {
                self.load(k, v, s);
                let q = inner::l1_worst(&s.p, &s.w, radius, &mut s.order, &mut s.dist);
                (q, 0.0)
            }
            Ambiguity::Interval(bounds) => {
                self.load(k, v, s);
                let csr = self.model().csr();
                let range = csr.pair_outcomes[k]..csr.pair_outcomes[k + 1];
                let q = inner::interval_worst(
                    &bounds.low[range.clone()],
                    &bounds.high[range],
                    &s.w,
                    &mut s.order,
                    &mut s.dist,
                );
                (q, 0.0)
            }
            Ambiguity::Kl { radius } => {
                self.load(k, v, s);
                let step = inner::kl_worst(&s.p, &s.w, radius, &mut s.dist);
                (step.value, step.gap)
            }
        }
    }

    /// The s-rectangular step of state `s`: `(value in agent form, bracket width)`, with the
    /// agent's weights and nature's budget allocation left in the scratch (per pair of `s`).
    /// `fixed`: a deterministic choice of pair (policy evaluation).
    fn s_rect(&self, state: usize, v: &[f64], fixed: Option<usize>, s: &mut Scratch) -> (f64, f64) {
        let Ambiguity::L1 { radius } = self.problem.ambiguity else {
            unreachable!("checked: s-rectangular sets are L1 balls");
        };
        let pairs = self.model().pairs(StateId(state as u32));
        let mut actions = std::mem::take(&mut s.actions);
        actions.clear();
        for k in pairs.clone() {
            if fixed.is_some_and(|f| f != k) {
                continue;
            }
            self.load(k, v, s);
            let q0 = dot(&s.p, &s.w);
            let mut segments = Vec::new();
            inner::l1_segments(&s.p, &s.w, &mut s.order, &mut segments);
            actions.push((q0, segments));
        }
        let (value, upper) = inner::s_rectangular_l1(&actions, radius, &mut s.xi, &mut s.weights);
        s.actions = actions;
        if let Some(f) = fixed {
            // Put the one action's weight and allocation back at its place among the pairs.
            let i = f - pairs.start;
            let (x, wt) = (s.xi[0], s.weights[0]);
            s.xi.clear();
            s.xi.resize(pairs.len(), 0.0);
            s.weights.clear();
            s.weights.resize(pairs.len(), 0.0);
            s.xi[i] = x;
            s.weights[i] = wt;
        }
        (value, (upper - value).max(0.0))
    }

    /// One state: `(value, bracket width, pair)`; the pair is [`NO_PAIR`] for a terminal
    /// state and, for an s-rectangular set, the pair of largest weight.
    pub(crate) fn state(
        &self,
        state: usize,
        v: &[f64],
        fixed: Option<usize>,
        s: &mut Scratch,
    ) -> (f64, f64, usize) {
        let model = self.model();
        let pairs = model.pairs(StateId(state as u32));
        if pairs.is_empty() {
            return (model.terminal_value(state), 0.0, NO_PAIR);
        }
        if self.problem.rectangularity == Rectangularity::S {
            let (value, eta) = self.s_rect(state, v, fixed, s);
            let mut best = 0;
            for (i, &wt) in s.weights.iter().enumerate() {
                if wt > s.weights[best] {
                    best = i;
                }
            }
            return (self.sign * value, eta, pairs.start + best);
        }
        if let Some(k) = fixed {
            let (q, eta) = self.pair(k, v, s);
            return (self.sign * q, eta, k);
        }
        let (mut best_q, mut best_k, mut eta) = (f64::NEG_INFINITY, pairs.start, 0.0f64);
        for k in pairs {
            let (q, e) = self.pair(k, v, s);
            eta = eta.max(e);
            if q > best_q {
                best_q = q;
                best_k = k;
            }
        }
        (self.sign * best_q, eta, best_k)
    }

    /// `out = T V` (or `T_π V` when `fixed` gives a pair per state), the greedy pairs, the
    /// backup statistics and the largest bracket width of any state.
    pub(crate) fn backup(
        &self,
        v: &[f64],
        out: &mut [f64],
        policy: &mut [usize],
        fixed: Option<&[usize]>,
    ) -> (BackupStats, f64) {
        let model = self.model();
        out.par_chunks_mut(CHUNK)
            .zip(policy.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(c, (out, policy))| {
                let mut scratch = Scratch::default();
                let mut stats = BackupStats::empty();
                let mut eta = 0.0f64;
                for i in 0..out.len() {
                    let s = c * CHUNK + i;
                    let fix = fixed.map(|f| f[s]).filter(|&k| k != NO_PAIR);
                    let (value, e, k) = self.state(s, v, fix, &mut scratch);
                    out[i] = value;
                    policy[i] = k;
                    eta = eta.max(e);
                    if model.is_terminal(StateId(s as u32)) {
                        stats.observe_terminal(value, v[s]);
                    } else {
                        stats.observe(value, v[s]);
                    }
                }
                (stats, eta)
            })
            .reduce(
                || (BackupStats::empty(), 0.0),
                |a, b| (BackupStats::merge(a.0, b.0), a.1.max(b.1)),
            )
    }

    /// The agent's weights on each pair of `state` (s-rectangular sets; sa: 1 on the greedy
    /// pair), as `(pair, weight)` with positive weights.
    pub(crate) fn weights(&self, state: usize, v: &[f64]) -> Vec<(usize, f64)> {
        let mut s = Scratch::default();
        let (_, _, k) = self.state(state, v, None, &mut s);
        if k == NO_PAIR {
            return Vec::new();
        }
        if self.problem.rectangularity == Rectangularity::S {
            let start = self.model().pairs(StateId(state as u32)).start;
            s.weights
                .iter()
                .enumerate()
                .filter(|(_, w)| **w > 0.0)
                .map(|(i, &w)| (start + i, w))
                .collect()
        } else {
            vec![(k, 1.0)]
        }
    }

    /// Nature's reply to values `v`: a full model in the set, each pair's worst-case
    /// distribution against `v`. With `fixed` (a pair per state), an s-rectangular budget is
    /// spent on the policy's pair only.
    pub(crate) fn worst_case_model(&self, v: &[f64], fixed: Option<&[usize]>) -> TabularMdp {
        let model = self.model();
        let csr = model.csr();
        let n = model.n_states();
        let mut b = MdpBuilder::new();
        b.declare_states(n as u64)
            .expect("same size as a valid model");
        b.declare_actions(model.n_actions() as u64)
            .expect("same size as a valid model");
        if let Some(names) = model.state_names() {
            b.state_names(names.to_vec());
        }
        if let Some(names) = model.action_names() {
            b.action_names(names.to_vec());
        }
        let mut s = Scratch::default();
        let reward_of = |k: usize, j: usize| match self.outcome_reward {
            Some(r) => r[j],
            None => csr.pair_reward[k],
        };
        let add = |b: &mut MdpBuilder, state: usize, k: usize, next: u32, p: f64, r: f64| {
            let p = p.clamp(0.0, 1.0);
            if p > 0.0 {
                b.add(
                    state as u64,
                    u64::from(model.pair_action(k).0),
                    u64::from(next),
                    p,
                    r,
                )
                .expect("ids of a valid model");
            }
        };
        for state in 0..n {
            let id = StateId(state as u32);
            if model.is_terminal(id) {
                b.mark_terminal_with_value(state as u64, model.terminal_value(state))
                    .expect("a valid model's terminal value");
                continue;
            }
            let pairs = model.pairs(id);
            let fix = fixed.map(|f| f[state]).filter(|&k| k != NO_PAIR);
            if self.problem.rectangularity == Rectangularity::S {
                let Ambiguity::L1 { .. } = self.problem.ambiguity else {
                    unreachable!("checked: s-rectangular sets are L1 balls");
                };
                self.s_rect(state, v, fix, &mut s);
                let xi = s.xi.clone();
                for (i, k) in pairs.enumerate() {
                    self.load(k, v, &mut s);
                    let mut dist = vec![0.0; s.p.len()];
                    inner::l1_worst(&s.p, &s.w, xi[i], &mut s.order, &mut dist);
                    for (o, j) in (csr.pair_outcomes[k]..csr.pair_outcomes[k + 1]).enumerate() {
                        add(&mut b, state, k, csr.next[j], dist[o], reward_of(k, j));
                    }
                }
                continue;
            }
            for k in pairs {
                self.pair(k, v, &mut s);
                match self.problem.ambiguity {
                    Ambiguity::Finite(models) => {
                        let m = &models[s.choice];
                        for o in m.outcomes(k) {
                            add(&mut b, state, k, o.next.0, o.probability, o.reward);
                        }
                    }
                    _ => {
                        for (o, j) in (csr.pair_outcomes[k]..csr.pair_outcomes[k + 1]).enumerate() {
                            add(&mut b, state, k, csr.next[j], s.dist[o], reward_of(k, j));
                        }
                    }
                }
            }
        }
        // Every pair keeps at least its largest outcome and sums to 1 within rounding.
        b.options(decide_core::ValidationOptions::with_tolerance(1e-7));
        b.build().expect("nature's choices are distributions").0
    }
}

/// Nature's reply to values `v` for `problem`: a model in the ambiguity set with, for every
/// pair, the distribution that minimises (maximises, for costs) `Σ p(s')(r + γ v(s'))`.
pub fn worst_case_model(problem: &RobustProblem<'_>, v: &[f64]) -> TabularMdp {
    Operator::new(problem).worst_case_model(v, None)
}
