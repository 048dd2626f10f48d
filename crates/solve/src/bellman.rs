//! The Bellman kernels: the only place `q(s,a) = r(s,a) + γ Σ p(s'|s,a) v(s')` is computed.
//!
//! Policies are stored as **pair indices** (see [`TabularMdp::csr`]); [`NO_PAIR`] marks a
//! terminal state, whose value is fixed.
//!
//! # Speed
//!
//! A sweep streams `next` (u32) and `probability` (f64), 12 bytes per transition, plus a few
//! bytes per pair and state, and gathers `v[next]`. The kernels are written so that nothing
//! but that work is left in the inner loops:
//!
//! * the sense (maximise or minimise) and the keep-ties rule are type parameters, so each
//!   combination compiles to its own loop without a test per comparison;
//! * the choice of the best pair is branch-free (selects, not jumps): a mispredicted branch
//!   would flush the gathers in flight, which are most of a sweep's time on large models;
//! * each parallel task slices the arrays of its states once, so the inner loops index
//!   short slices.
//!
//! **Determinism**: each state's `q` is summed over its outcomes in stored order and its best
//! pair chosen in pair order, whatever the thread count or chunking; the only reductions
//! across states are min and max ([`BackupStats::merge`]). So results are bit-identical for
//! every thread count.

use crate::certificate::BackupStats;
use decide_core::model::CsrView;
use decide_core::{Probabilities, Sense, TabularMdp};
use rayon::prelude::*;

/// The policy entry of a terminal state.
pub const NO_PAIR: usize = usize::MAX;

/// States per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 4096;

/// A probability as stored: `f64`, or `f32` for a model held with rounded probabilities
/// ([`Probabilities`]). The kernels are compiled for each; sums are always in `f64`.
pub trait StoredProbability: Copy + Send + Sync {
    /// Whether the stored values are rounded (their sums then differ from 1 by ~1e-8).
    const ROUNDED: bool;
    /// The probability as `f64` (exact).
    fn widen(self) -> f64;
}

impl StoredProbability for f64 {
    const ROUNDED: bool = false;
    #[inline(always)]
    fn widen(self) -> f64 {
        self
    }
}

impl StoredProbability for f32 {
    const ROUNDED: bool = true;
    #[inline(always)]
    fn widen(self) -> f64 {
        f64::from(self)
    }
}

/// Runs `$body` with `$p` bound to the stored probability slice, compiled once per type.
macro_rules! with_probabilities {
    ($probabilities:expr, $p:ident => $body:expr) => {
        match $probabilities {
            Probabilities::F64($p) => $body,
            Probabilities::F32($p) => $body,
        }
    };
}

/// `Σ p·v[next]` over one pair's outcomes, in stored order.
///
/// Rounded probabilities are renormalised: `Σ p·v / Σ p`. Without it a row summing to
/// `1 + ε` turns the constant part of `v` — which value iteration removes only at the rate
/// `γ` — into a spread of `ε·v̄` across states, and the span of `T V − V`, which the
/// certificate needs small, then also shrinks at the rate `γ` only (measured: 360 sweeps
/// instead of 29 on the 10^6-state random model).
#[inline(always)]
fn expected_next<P: StoredProbability>(next: &[u32], probability: &[P], v: &[f64]) -> f64 {
    let mut sum = 0.0;
    let mut total = 0.0;
    for (&n, &p) in next.iter().zip(probability) {
        sum += p.widen() * v[n as usize];
        if P::ROUNDED {
            total += p.widen();
        }
    }
    if P::ROUNDED { sum / total } else { sum }
}

/// `q(s,a)` of pair `k` against values `v`.
#[inline]
pub fn pair_q(csr: &CsrView<'_>, k: usize, discount: f64, v: &[f64]) -> f64 {
    let range = csr.pair_outcomes[k]..csr.pair_outcomes[k + 1];
    let next = &csr.next[range.clone()];
    csr.pair_reward[k]
        + discount * with_probabilities!(csr.probability, p => expected_next(next, &p[range], v))
}

/// Maximisation or minimisation, as a type, so that comparisons compile without a branch on
/// the sense.
trait Direction {
    /// Whether `candidate` is strictly better than `incumbent`.
    fn better(candidate: f64, incumbent: f64) -> bool;
}

struct Maximize;
struct Minimize;

impl Direction for Maximize {
    #[inline(always)]
    fn better(candidate: f64, incumbent: f64) -> bool {
        candidate > incumbent
    }
}

impl Direction for Minimize {
    #[inline(always)]
    fn better(candidate: f64, incumbent: f64) -> bool {
        candidate < incumbent
    }
}

/// The arrays of a range of states, sliced once: pair `k` of the model is `k - pair_base`
/// here, outcome `j` is `j - outcome_base`.
struct Block<'a, P> {
    /// The block's first state.
    first: usize,
    state_pairs: &'a [usize],
    pair_outcomes: &'a [usize],
    pair_reward: &'a [f64],
    next: &'a [u32],
    probability: &'a [P],
    pair_base: usize,
    outcome_base: usize,
}

/// The outcome range of states `first..first + len`.
#[inline]
fn outcome_range(csr: &CsrView<'_>, first: usize, len: usize) -> std::ops::Range<usize> {
    csr.pair_outcomes[csr.state_pairs[first]]..csr.pair_outcomes[csr.state_pairs[first + len]]
}

impl<'a, P: StoredProbability> Block<'a, P> {
    /// States `first..first + len`, with the model's outcome arrays (`probability` is the
    /// model's own, whole).
    #[inline]
    fn new(csr: &CsrView<'a>, probability: &'a [P], first: usize, len: usize) -> Self {
        let outcomes = outcome_range(csr, first, len);
        Self::with_outcomes(
            csr,
            first,
            len,
            &csr.next[outcomes.clone()],
            &probability[outcomes],
        )
    }

    /// States `first..first + len`, whose outcomes (in the model's order) are `next` and
    /// `probability`: the model's own or the same outcomes read from elsewhere.
    #[inline]
    fn with_outcomes(
        csr: &CsrView<'a>,
        first: usize,
        len: usize,
        next: &'a [u32],
        probability: &'a [P],
    ) -> Self {
        let state_pairs = &csr.state_pairs[first..=first + len];
        let (p0, p1) = (state_pairs[0], state_pairs[len]);
        let pair_outcomes = &csr.pair_outcomes[p0..=p1];
        let o0 = pair_outcomes[0];
        Block {
            first,
            state_pairs,
            pair_outcomes,
            pair_reward: &csr.pair_reward[p0..p1],
            next,
            probability,
            pair_base: p0,
            outcome_base: o0,
        }
    }

    /// `q` of the block's local pair `k`.
    #[inline(always)]
    fn q(&self, k: usize, discount: f64, v: &[f64]) -> f64 {
        self.pair_reward[k] + discount * self.expected(k, v)
    }

    /// `Σ p·v[next]` of the block's local pair `k`.
    #[inline(always)]
    fn expected(&self, k: usize, v: &[f64]) -> f64 {
        let o0 = self.pair_outcomes[k] - self.outcome_base;
        let o1 = self.pair_outcomes[k + 1] - self.outcome_base;
        expected_next(&self.next[o0..o1], &self.probability[o0..o1], v)
    }

    /// The local pair range of the block's local state `i`.
    #[inline(always)]
    fn pairs(&self, i: usize) -> (usize, usize) {
        (
            self.state_pairs[i] - self.pair_base,
            self.state_pairs[i + 1] - self.pair_base,
        )
    }

    /// Best `q` of local state `i` and its local pair (the first best in pair order), for a
    /// state with at least one pair; `keep` (local, or `usize::MAX`) wins ties within `tie`.
    #[inline(always)]
    fn best<D: Direction, const KEEP: bool>(
        &self,
        i: usize,
        discount: f64,
        v: &[f64],
        keep: usize,
        tie: f64,
    ) -> (f64, usize) {
        let (start, end) = self.pairs(i);
        let mut best_k = start;
        let mut best_q = self.q(start, discount, v);
        let mut keep_q = f64::NAN;
        if KEEP && keep == start {
            keep_q = best_q;
        }
        for k in start + 1..end {
            let q = self.q(k, discount, v);
            if KEEP && k == keep {
                keep_q = q;
            }
            // Branch-free selection.
            let better = D::better(q, best_q);
            best_q = if better { q } else { best_q };
            best_k = if better { k } else { best_k };
        }
        if KEEP && (keep_q - best_q).abs() <= tie {
            (best_q, keep)
        } else {
            (best_q, best_k)
        }
    }
}

/// The best `q` of state `s` and the pair attaining it (first best by action id), or
/// `(terminal value, NO_PAIR)` for a terminal state.
///
/// When `keep` is a pair of `s` whose `q` is within `tie` of the best, `keep` is returned
/// instead: policy iteration keeps its action on ties that rounding cannot resolve, which is
/// what guarantees it terminates.
#[inline]
pub fn best_pair(
    csr: &CsrView<'_>,
    s: usize,
    sense: Sense,
    discount: f64,
    v: &[f64],
    keep: usize,
    tie: f64,
) -> (f64, usize) {
    let pairs = csr.state_pairs[s]..csr.state_pairs[s + 1];
    if pairs.is_empty() {
        return (csr.terminal_value(s), NO_PAIR);
    }
    let local_keep = if pairs.contains(&keep) {
        keep - pairs.start
    } else {
        usize::MAX
    };
    let (q, k) = with_probabilities!(csr.probability, p => {
        let block = Block::new(csr, p, s, 1);
        match sense {
            Sense::Maximize => block.best::<Maximize, true>(0, discount, v, local_keep, tie),
            Sense::Minimize => block.best::<Minimize, true>(0, discount, v, local_keep, tie),
        }
    });
    (q, k + pairs.start)
}

/// Runs `f(first_state, chunk)` over `out` in parallel chunks and merges the statistics.
fn for_chunks(
    out: &mut [f64],
    policy: Option<&mut [usize]>,
    f: impl Fn(usize, &mut [f64], Option<&mut [usize]>) -> BackupStats + Sync,
) -> BackupStats {
    match policy {
        Some(policy) => out
            .par_chunks_mut(CHUNK)
            .zip(policy.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(i, (o, p))| f(i * CHUNK, o, Some(p)))
            .reduce(BackupStats::empty, BackupStats::merge),
        None => out
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(i, o)| f(i * CHUNK, o, None))
            .reduce(BackupStats::empty, BackupStats::merge),
    }
}

/// One chunk of [`backup`]: states `first..first + out.len()` of `block`.
fn backup_chunk<D: Direction, const KEEP: bool, P: StoredProbability>(
    csr: &CsrView<'_>,
    block: &Block<'_, P>,
    discount: f64,
    v: &[f64],
    out: &mut [f64],
    policy: &mut [usize],
    tie: f64,
) -> BackupStats {
    let first = block.first;
    let old = &v[first..first + out.len()];
    let mut stats = BackupStats::empty();
    for (i, ((o, p), &before)) in out.iter_mut().zip(policy.iter_mut()).zip(old).enumerate() {
        let (start, end) = block.pairs(i);
        if start == end {
            let q = csr.terminal_value(first + i);
            *o = q;
            *p = NO_PAIR;
            stats.observe_terminal(q, before);
            continue;
        }
        // The previous pair, local to the block (`usize::MAX` when it is not one of this
        // state's pairs, e.g. NO_PAIR at the start).
        let keep = if KEEP {
            p.wrapping_sub(block.pair_base)
        } else {
            usize::MAX
        };
        let keep = if keep >= start && keep < end {
            keep
        } else {
            usize::MAX
        };
        let (q, k) = block.best::<D, KEEP>(i, discount, v, keep, tie);
        *o = q;
        *p = k + block.pair_base;
        stats.observe(q, before);
    }
    stats
}

/// Jacobi Bellman backup: `out = T v`, `policy` = the greedy pairs, and the statistics of
/// `d = T v − v` the certificate needs. `keep_ties` makes the previous `policy` win ties
/// within `tie` (see [`best_pair`]).
pub fn backup(
    mdp: &TabularMdp,
    sense: Sense,
    discount: f64,
    v: &[f64],
    out: &mut [f64],
    policy: &mut [usize],
    keep_ties: Option<f64>,
) -> BackupStats {
    let csr = mdp.csr();
    for_chunks(out, Some(policy), |first, out, policy| {
        let policy = policy.expect("backup passes a policy");
        with_probabilities!(csr.probability, p => {
            let block = Block::new(&csr, p, first, out.len());
            backup_block(&csr, &block, sense, discount, v, out, policy, keep_ties)
        })
    })
}

/// [`backup_chunk`] for the sense and tie rule given at run time.
#[allow(clippy::too_many_arguments)]
fn backup_block<P: StoredProbability>(
    csr: &CsrView<'_>,
    block: &Block<'_, P>,
    sense: Sense,
    discount: f64,
    v: &[f64],
    out: &mut [f64],
    policy: &mut [usize],
    keep_ties: Option<f64>,
) -> BackupStats {
    let tie = keep_ties.unwrap_or(0.0);
    match (sense, keep_ties.is_some()) {
        (Sense::Maximize, false) => {
            backup_chunk::<Maximize, false, P>(csr, block, discount, v, out, policy, tie)
        }
        (Sense::Maximize, true) => {
            backup_chunk::<Maximize, true, P>(csr, block, discount, v, out, policy, tie)
        }
        (Sense::Minimize, false) => {
            backup_chunk::<Minimize, false, P>(csr, block, discount, v, out, policy, tie)
        }
        (Sense::Minimize, true) => {
            backup_chunk::<Minimize, true, P>(csr, block, discount, v, out, policy, tie)
        }
    }
}

/// [`backup`] of states `first..first + out.len()` with their outcomes given from outside the
/// model: `next` and `probability` are exactly the outcomes of those states in the model's
/// order (the `next` the model holds, probabilities read exactly from its file). This is how
/// a model held with `f32` probabilities gets an exact backup for its certificate.
#[allow(clippy::too_many_arguments)]
pub fn backup_with_outcomes(
    mdp: &TabularMdp,
    sense: Sense,
    discount: f64,
    v: &[f64],
    first: usize,
    out: &mut [f64],
    policy: &mut [usize],
    next: &[u32],
    probability: &[f64],
) -> BackupStats {
    let csr = mdp.csr();
    let base = outcome_range(&csr, first, 0).start;
    for_chunks(out, Some(policy), |offset, out, policy| {
        let policy = policy.expect("backup passes a policy");
        let start = first + offset;
        let outcomes = outcome_range(&csr, start, out.len());
        let local = outcomes.start - base..outcomes.end - base;
        let block = Block::with_outcomes(
            &csr,
            start,
            out.len(),
            &next[local.clone()],
            &probability[local],
        );
        backup_block(&csr, &block, sense, discount, v, out, policy, None)
    })
}

/// Policy backup: `out = T_π v` for the pairs in `policy`, with the statistics of `T_π v − v`.
pub fn policy_backup(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    v: &[f64],
    out: &mut [f64],
) -> BackupStats {
    policy_sweep(mdp, discount, policy, None, v, out)
}

/// `out = c + γ P_π v`: [`policy_backup`] with the reward of each state's pair replaced by
/// `state_reward` (terminal states included, whose value is then `state_reward` too). One
/// sweep of the linear system `d = c + γ P_π d` that corrects values computed with rounded
/// probabilities (`crate::mixed_precision`).
pub fn policy_backup_with_rewards(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    state_reward: &[f64],
    v: &[f64],
    out: &mut [f64],
) -> BackupStats {
    policy_sweep(mdp, discount, policy, Some(state_reward), v, out)
}

fn policy_sweep(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    state_reward: Option<&[f64]>,
    v: &[f64],
    out: &mut [f64],
) -> BackupStats {
    let csr = mdp.csr();
    for_chunks(out, None, |first, out, _| {
        with_probabilities!(csr.probability, p => {
            let block = Block::new(&csr, p, first, out.len());
            policy_chunk(&csr, &block, discount, policy, state_reward, v, out)
        })
    })
}

/// One chunk of [`policy_sweep`]: the states of `block`, `out.len()` of them.
fn policy_chunk<P: StoredProbability>(
    csr: &CsrView<'_>,
    block: &Block<'_, P>,
    discount: f64,
    policy: &[usize],
    state_reward: Option<&[f64]>,
    v: &[f64],
    out: &mut [f64],
) -> BackupStats {
    let first = block.first;
    let chosen = &policy[first..first + out.len()];
    let old = &v[first..first + out.len()];
    let mut stats = BackupStats::empty();
    for (i, ((o, &k), &before)) in out.iter_mut().zip(chosen).zip(old).enumerate() {
        if k == NO_PAIR {
            let q = state_reward.map_or_else(|| csr.terminal_value(first + i), |c| c[first + i]);
            *o = q;
            stats.observe_terminal(q, before);
        } else {
            let local = k - block.pair_base;
            let q = match state_reward {
                None => block.q(local, discount, v),
                Some(c) => c[first + i] + discount * block.expected(local, v),
            };
            *o = q;
            stats.observe(q, before);
        }
    }
    stats
}

/// One in-place Gauss–Seidel sweep of the Bellman operator (states in index order; each
/// update uses the values already updated in this sweep). Returns the largest `|change|`.
/// Sequential by nature, so deterministic.
pub fn gauss_seidel_sweep(mdp: &TabularMdp, sense: Sense, discount: f64, v: &mut [f64]) -> f64 {
    match sense {
        Sense::Maximize => gauss_seidel::<Maximize>(mdp, discount, v, false),
        Sense::Minimize => gauss_seidel::<Minimize>(mdp, discount, v, false),
    }
}

/// [`gauss_seidel_sweep`] in decreasing state order: information then travels from high to
/// low indices in one sweep. Alternating both directions (symmetric Gauss–Seidel) carries it
/// both ways, which is what slow-mixing models need. Returns the largest `|change|`.
pub fn gauss_seidel_sweep_backward(
    mdp: &TabularMdp,
    sense: Sense,
    discount: f64,
    v: &mut [f64],
) -> f64 {
    match sense {
        Sense::Maximize => gauss_seidel::<Maximize>(mdp, discount, v, true),
        Sense::Minimize => gauss_seidel::<Minimize>(mdp, discount, v, true),
    }
}

fn gauss_seidel<D: Direction>(
    mdp: &TabularMdp,
    discount: f64,
    v: &mut [f64],
    backward: bool,
) -> f64 {
    let csr = mdp.csr();
    with_probabilities!(csr.probability, p => {
        let block = Block::new(&csr, p, 0, v.len());
        gauss_seidel_block::<D, _>(&csr, &block, discount, v, backward)
    })
}

fn gauss_seidel_block<D: Direction, P: StoredProbability>(
    csr: &CsrView<'_>,
    block: &Block<'_, P>,
    discount: f64,
    v: &mut [f64],
    backward: bool,
) -> f64 {
    let mut max_change = 0.0f64;
    let mut update = |s: usize, v: &mut [f64]| {
        let (start, end) = block.pairs(s);
        let q = if start == end {
            csr.terminal_value(s)
        } else {
            block.best::<D, false>(s, discount, v, usize::MAX, 0.0).0
        };
        max_change = max_change.max((q - v[s]).abs());
        v[s] = q;
    };
    if backward {
        for s in (0..v.len()).rev() {
            update(s, v);
        }
    } else {
        for s in 0..v.len() {
            update(s, v);
        }
    }
    max_change
}

/// One in-place Gauss–Seidel sweep of `T_π`. Returns the largest `|change|`.
pub fn policy_gauss_seidel_sweep(
    mdp: &TabularMdp,
    discount: f64,
    policy: &[usize],
    v: &mut [f64],
) -> f64 {
    let csr = mdp.csr();
    let mut max_change = 0.0f64;
    for s in 0..v.len() {
        let k = policy[s];
        let q = if k == NO_PAIR {
            csr.terminal_value(s)
        } else {
            pair_q(&csr, k, discount, v)
        };
        max_change = max_change.max((q - v[s]).abs());
        v[s] = q;
    }
    max_change
}

#[cfg(test)]
mod tests {
    use super::*;
    use decide_core::generate::{Gridworld, SplitMixSparse, compile};

    /// The straightforward definition, for comparison.
    fn reference_backup(mdp: &TabularMdp, sense: Sense, v: &[f64]) -> (Vec<f64>, Vec<usize>) {
        let csr = mdp.csr();
        (0..mdp.n_states())
            .map(|s| {
                let pairs = csr.state_pairs[s]..csr.state_pairs[s + 1];
                if pairs.is_empty() {
                    return (csr.terminal_value(s), NO_PAIR);
                }
                let mut best = (pair_q(&csr, pairs.start, 0.9, v), pairs.start);
                for k in pairs.start + 1..pairs.end {
                    let q = pair_q(&csr, k, 0.9, v);
                    if sense.better(q, best.0) {
                        best = (q, k);
                    }
                }
                best
            })
            .unzip()
    }

    #[test]
    fn kernels_match_the_definition_for_both_senses() {
        let random = compile(
            &SplitMixSparse {
                n_states: 9000,
                n_actions: 3,
                n_successors: 4,
                seed: 5,
            },
            false,
        )
        .unwrap();
        let grid = compile(
            &Gridworld {
                width: 40,
                height: 30,
                slip: 0.2,
            },
            false,
        )
        .unwrap();
        for mdp in [&random, &grid] {
            let n = mdp.n_states();
            let v: Vec<f64> = (0..n).map(|s| ((s * 37) % 101) as f64 / 7.0).collect();
            for sense in [Sense::Maximize, Sense::Minimize] {
                let (want, want_policy) = reference_backup(mdp, sense, &v);
                let mut out = vec![0.0; n];
                let mut policy = vec![NO_PAIR; n];
                backup(mdp, sense, 0.9, &v, &mut out, &mut policy, None);
                assert_eq!(out, want);
                assert_eq!(policy, want_policy);
                // Keeping ties: the previous policy stays where it is within the tie.
                let mut kept = want_policy.clone();
                for (s, k) in kept.iter_mut().enumerate() {
                    let pairs = mdp.csr().state_pairs[s]..mdp.csr().state_pairs[s + 1];
                    *k = pairs.end - 1;
                }
                let previous = kept.clone();
                backup(
                    mdp,
                    sense,
                    0.9,
                    &v,
                    &mut out,
                    &mut kept,
                    Some(f64::INFINITY),
                );
                assert_eq!(kept, previous, "an infinite tie keeps every pair");
                assert_eq!(out, want);
                for s in 0..n.min(50) {
                    let (q, k) = best_pair(&mdp.csr(), s, sense, 0.9, &v, NO_PAIR, 0.0);
                    assert_eq!((q, k), (want[s], want_policy[s]));
                }
                // Backward Gauss–Seidel from v updates the last state from v itself.
                let mut gs = v.clone();
                gauss_seidel_sweep_backward(mdp, sense, 0.9, &mut gs);
                assert_eq!(gs[n - 1], want[n - 1]);
                let mut gs = v.clone();
                gauss_seidel_sweep(mdp, sense, 0.9, &mut gs);
                assert_eq!(gs[0], want[0]);
            }
        }
    }
}
