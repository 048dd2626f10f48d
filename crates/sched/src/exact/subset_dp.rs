//! Dynamic programming over job subsets (Held & Karp 1962 style), the reference oracle.
//!
//! V(J) = min_{k∈J} [V(J∖{k}) + f_k(P(J))], where P(J) = Σ_{j∈J} p_j is when the last job of J
//! completes (no idle time). O(2^n · n) time and one value per subset of memory; the digest of
//! Çetinkaya et al. (§5) uses it as ground truth up to n ≈ 25.

use super::Deadline;
use crate::instance::Instance;

/// The largest n the subset DP accepts: 2^25 values of 4 bytes are 128 MiB. With costs that
/// do not fit in 32 bits the limit is [`MAX_JOBS_WIDE`].
pub const MAX_JOBS: usize = 25;

/// The largest n for costs beyond 32 bits (2^24 values of 8 bytes, 128 MiB).
pub const MAX_JOBS_WIDE: usize = 24;

/// An optimal sequence and its cost by the subset DP, or `None` when n exceeds the limits
/// above or the deadline passes first.
pub fn solve(instance: &Instance) -> Option<(Vec<usize>, i64)> {
    solve_until(instance, &Deadline::none())
}

pub(crate) fn solve_until(instance: &Instance, deadline: &Deadline) -> Option<(Vec<usize>, i64)> {
    let n = instance.n_jobs();
    // Any sequence's cost bounds every V(J) from above (V is monotone in J), so the EDD cost
    // decides whether 32-bit storage is enough.
    let edd = crate::rules::edd(instance);
    let upper = instance.objective(&edd);
    if upper < u32::MAX as i64 && n <= MAX_JOBS {
        solve_with::<u32>(instance, deadline)
    } else if n <= MAX_JOBS_WIDE {
        solve_with::<u64>(instance, deadline)
    } else {
        None
    }
}

/// Storage type of the DP table.
trait Cost: Copy + Ord {
    const INFINITE: Self;
    fn from_i64(value: i64) -> Self;
    fn to_i64(self) -> i64;
}

impl Cost for u32 {
    const INFINITE: Self = u32::MAX;
    fn from_i64(value: i64) -> Self {
        value as u32
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
}

impl Cost for u64 {
    const INFINITE: Self = u64::MAX;
    fn from_i64(value: i64) -> Self {
        value as u64
    }
    fn to_i64(self) -> i64 {
        self as i64
    }
}

fn solve_with<C: Cost>(instance: &Instance, deadline: &Deadline) -> Option<(Vec<usize>, i64)> {
    let n = instance.n_jobs();
    let full: usize = (1 << n) - 1;
    let mut value: Vec<C> = vec![C::INFINITE; full + 1];
    value[0] = C::from_i64(0);
    let p: Vec<i64> = instance.jobs().iter().map(|j| j.processing_time).collect();
    for subset in 1..=full {
        if subset & 0xFFFF == 0 && deadline.expired() {
            return None;
        }
        let mut length = 0i64;
        let mut bits = subset;
        while bits != 0 {
            length += p[bits.trailing_zeros() as usize];
            bits &= bits - 1;
        }
        let mut best = i64::MAX;
        let mut bits = subset;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let candidate = value[subset ^ (1 << k)].to_i64() + instance.job(k).cost_at(length);
            best = best.min(candidate);
        }
        value[subset] = C::from_i64(best);
    }
    // Walk back from the full set: the last job of J is any k that attains V(J).
    let mut sequence = Vec::with_capacity(n);
    let mut subset = full;
    let mut length: i64 = p.iter().sum();
    while subset != 0 {
        let target = value[subset].to_i64();
        let mut bits = subset;
        let mut last = None;
        while bits != 0 {
            let k = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if value[subset ^ (1 << k)].to_i64() + instance.job(k).cost_at(length) == target {
                last = Some(k);
                break;
            }
        }
        let k = last.expect("some job attains the minimum");
        sequence.push(k);
        subset ^= 1 << k;
        length -= p[k];
    }
    sequence.reverse();
    Some((sequence, value[full].to_i64()))
}
