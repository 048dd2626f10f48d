//! The Bellman kernels: the only place `q(s,a) = r(s,a) + γ Σ p(s'|s,a) v(s')` is computed.
//!
//! Policies are stored as **pair indices** (see [`TabularMdp::csr`]); [`NO_PAIR`] marks a
//! terminal state, whose value is fixed.

use crate::certificate::BackupStats;
use decide_core::model::CsrView;
use decide_core::{Sense, TabularMdp};
use rayon::prelude::*;

/// The policy entry of a terminal state.
pub const NO_PAIR: usize = usize::MAX;

/// States per parallel task: large enough to amortise scheduling, small enough to balance.
const CHUNK: usize = 2048;

/// `q(s,a)` of pair `k` against values `v`.
#[inline]
pub fn pair_q(csr: &CsrView<'_>, k: usize, discount: f64, v: &[f64]) -> f64 {
    let range = csr.pair_outcomes[k]..csr.pair_outcomes[k + 1];
    let mut expected_next = 0.0;
    for (&n, &p) in csr.next[range.clone()].iter().zip(&csr.probability[range]) {
        expected_next += p * v[n as usize];
    }
    csr.pair_reward[k] + discount * expected_next
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
    let mut best_k = pairs.start;
    let mut best_q = pair_q(csr, best_k, discount, v);
    let mut keep_q = if keep == best_k { Some(best_q) } else { None };
    for k in pairs.start + 1..pairs.end {
        let q = pair_q(csr, k, discount, v);
        if k == keep {
            keep_q = Some(q);
        }
        if sense.better(q, best_q) {
            best_q = q;
            best_k = k;
        }
    }
    match keep_q {
        Some(q) if (q - best_q).abs() <= tie => (best_q, keep),
        _ => (best_q, best_k),
    }
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
        let mut stats = BackupStats::empty();
        for (i, (o, p)) in out.iter_mut().zip(policy.iter_mut()).enumerate() {
            let s = first + i;
            let (keep, tie) = match keep_ties {
                Some(tie) => (*p, tie),
                None => (NO_PAIR, 0.0),
            };
            let (q, k) = best_pair(&csr, s, sense, discount, v, keep, tie);
            *o = q;
            *p = k;
            if k == NO_PAIR {
                stats.observe_terminal(q, v[s]);
            } else {
                stats.observe(q, v[s]);
            }
        }
        stats
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
        let mut stats = BackupStats::empty();
        for (i, o) in out.iter_mut().enumerate() {
            let s = first + i;
            let k = policy[s];
            *o = if k == NO_PAIR {
                let q = csr.terminal_value(s);
                stats.observe_terminal(q, v[s]);
                q
            } else {
                let q = pair_q(&csr, k, discount, v);
                stats.observe(q, v[s]);
                q
            };
        }
        stats
    })
}

/// One in-place Gauss–Seidel sweep of the Bellman operator (states in index order; each
/// update uses the values already updated in this sweep). Returns the largest `|change|`.
/// Sequential by nature, so deterministic.
pub fn gauss_seidel_sweep(mdp: &TabularMdp, sense: Sense, discount: f64, v: &mut [f64]) -> f64 {
    let csr = mdp.csr();
    let mut max_change = 0.0f64;
    for s in 0..v.len() {
        let (q, _) = best_pair(&csr, s, sense, discount, v, NO_PAIR, 0.0);
        max_change = max_change.max((q - v[s]).abs());
        v[s] = q;
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
