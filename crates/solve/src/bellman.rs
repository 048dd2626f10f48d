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
use decide_core::{Sense, TabularMdp};
use rayon::prelude::*;

/// The policy entry of a terminal state.
pub const NO_PAIR: usize = usize::MAX;

/// States per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 4096;

/// `Σ p·v[next]` over one pair's outcomes, in stored order.
#[inline(always)]
fn expected_next(next: &[u32], probability: &[f64], v: &[f64]) -> f64 {
    let mut sum = 0.0;
    for (&n, &p) in next.iter().zip(probability) {
        sum += p * v[n as usize];
    }
    sum
}

/// `q(s,a)` of pair `k` against values `v`.
#[inline]
pub fn pair_q(csr: &CsrView<'_>, k: usize, discount: f64, v: &[f64]) -> f64 {
    let range = csr.pair_outcomes[k]..csr.pair_outcomes[k + 1];
    csr.pair_reward[k]
        + discount * expected_next(&csr.next[range.clone()], &csr.probability[range], v)
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
struct Block<'a> {
    state_pairs: &'a [usize],
    pair_outcomes: &'a [usize],
    pair_reward: &'a [f64],
    next: &'a [u32],
    probability: &'a [f64],
    pair_base: usize,
    outcome_base: usize,
}

impl<'a> Block<'a> {
    /// States `first..first + len`.
    #[inline]
    fn new(csr: &CsrView<'a>, first: usize, len: usize) -> Self {
        let state_pairs = &csr.state_pairs[first..=first + len];
        let (p0, p1) = (state_pairs[0], state_pairs[len]);
        let pair_outcomes = &csr.pair_outcomes[p0..=p1];
        let (o0, o1) = (pair_outcomes[0], pair_outcomes[p1 - p0]);
        Block {
            state_pairs,
            pair_outcomes,
            pair_reward: &csr.pair_reward[p0..p1],
            next: &csr.next[o0..o1],
            probability: &csr.probability[o0..o1],
            pair_base: p0,
            outcome_base: o0,
        }
    }

    /// `q` of the block's local pair `k`.
    #[inline(always)]
    fn q(&self, k: usize, discount: f64, v: &[f64]) -> f64 {
        let o0 = self.pair_outcomes[k] - self.outcome_base;
        let o1 = self.pair_outcomes[k + 1] - self.outcome_base;
        self.pair_reward[k]
            + discount * expected_next(&self.next[o0..o1], &self.probability[o0..o1], v)
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
    let block = Block::new(csr, s, 1);
    let local_keep = if pairs.contains(&keep) {
        keep - pairs.start
    } else {
        usize::MAX
    };
    let (q, k) = match sense {
        Sense::Maximize => block.best::<Maximize, true>(0, discount, v, local_keep, tie),
        Sense::Minimize => block.best::<Minimize, true>(0, discount, v, local_keep, tie),
    };
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

/// One chunk of [`backup`]: states `first..first + out.len()`.
#[allow(clippy::too_many_arguments)]
fn backup_chunk<D: Direction, const KEEP: bool>(
    csr: &CsrView<'_>,
    discount: f64,
    v: &[f64],
    first: usize,
    out: &mut [f64],
    policy: &mut [usize],
    tie: f64,
) -> BackupStats {
    let block = Block::new(csr, first, out.len());
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
    let tie = keep_ties.unwrap_or(0.0);
    for_chunks(out, Some(policy), |first, out, policy| {
        let policy = policy.expect("backup passes a policy");
        match (sense, keep_ties.is_some()) {
            (Sense::Maximize, false) => {
                backup_chunk::<Maximize, false>(&csr, discount, v, first, out, policy, tie)
            }
            (Sense::Maximize, true) => {
                backup_chunk::<Maximize, true>(&csr, discount, v, first, out, policy, tie)
            }
            (Sense::Minimize, false) => {
                backup_chunk::<Minimize, false>(&csr, discount, v, first, out, policy, tie)
            }
            (Sense::Minimize, true) => {
                backup_chunk::<Minimize, true>(&csr, discount, v, first, out, policy, tie)
            }
        }
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
    let csr = mdp.csr();
    for_chunks(out, None, |first, out, _| {
        let chosen = &policy[first..first + out.len()];
        let old = &v[first..first + out.len()];
        let mut stats = BackupStats::empty();
        for (i, ((o, &k), &before)) in out.iter_mut().zip(chosen).zip(old).enumerate() {
            if k == NO_PAIR {
                let q = csr.terminal_value(first + i);
                *o = q;
                stats.observe_terminal(q, before);
            } else {
                let q = pair_q(&csr, k, discount, v);
                *o = q;
                stats.observe(q, before);
            }
        }
        stats
    })
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
    let block = Block::new(&csr, 0, v.len());
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
