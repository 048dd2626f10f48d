//! The inner worst-case steps: given one pair's nominal distribution `p` over its outcomes and
//! the value `w_j = r(s,a,s'_j) + γ V(s'_j)` of each outcome, nature's minimum of `qᵀw` over
//! the ambiguity set, and the distribution `q` attaining it. Everything here minimises;
//! the callers negate `w` to maximise (costs).
//!
//! These are public so that tests can compare them with an LP or a convex solver.

use std::cmp::Ordering;

/// `Σ p_j w_j` in stored order.
#[inline]
pub fn dot(p: &[f64], w: &[f64]) -> f64 {
    p.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// The first index of the smallest `w`.
fn argmin(w: &[f64]) -> usize {
    let mut best = 0;
    for (j, &x) in w.iter().enumerate() {
        if x < w[best] {
            best = j;
        }
    }
    best
}

/// Sorts `order` (indices into `w`) by `w`, ties by index (deterministic).
fn sort_by_value(order: &mut [usize], w: &[f64], descending: bool) {
    order.sort_unstable_by(|&a, &b| {
        let c = w[a].partial_cmp(&w[b]).unwrap_or(Ordering::Equal);
        let c = if descending { c.reverse() } else { c };
        c.then(a.cmp(&b))
    });
}

/// L1 ball of `radius` around `p` over `p`'s support: `min qᵀw` s.t. `‖q − p‖₁ ≤ radius`,
/// `q ≥ 0`, `Σq = 1`, `q_j = 0` off the listed outcomes. Writes the minimiser to `out`.
///
/// The minimiser moves `ε = min(radius/2, 1 − p_min)` of mass onto the lowest-valued
/// outcome, taken from the highest-valued ones first: `O(n log n)` for the sort.
pub fn l1_worst(p: &[f64], w: &[f64], radius: f64, order: &mut Vec<usize>, out: &mut [f64]) -> f64 {
    out.copy_from_slice(p);
    let n = p.len();
    if n <= 1 || radius <= 0.0 {
        return dot(p, w);
    }
    let low = argmin(w);
    let epsilon = (radius / 2.0).min(1.0 - p[low]);
    if epsilon <= 0.0 {
        return dot(p, w);
    }
    order.clear();
    order.extend((0..n).filter(|&j| j != low));
    sort_by_value(order, w, true);
    let mut left = epsilon;
    for &j in order.iter() {
        if left <= 0.0 {
            break;
        }
        let take = out[j].min(left);
        out[j] -= take;
        left -= take;
    }
    // What was taken, exactly, goes to the lowest outcome: the sum is kept.
    out[low] += epsilon - left.max(0.0);
    dot(out, w)
}

/// The pieces of the L1 worst case as a function of the radius `ξ`: `q(ξ) = q(0) + Σ` of the
/// segments consumed, each `(length in ξ, slope)` with slopes increasing (less negative) —
/// `q` is convex, piecewise linear and non-increasing in `ξ`. Used by the s-rectangular step.
pub fn l1_segments(p: &[f64], w: &[f64], order: &mut Vec<usize>, segments: &mut Vec<(f64, f64)>) {
    segments.clear();
    let n = p.len();
    if n <= 1 {
        return;
    }
    let low = argmin(w);
    order.clear();
    order.extend((0..n).filter(|&j| j != low));
    sort_by_value(order, w, true);
    for &j in order.iter() {
        if p[j] > 0.0 {
            // Moving mass m from j to `low` costs ξ = 2m and changes the value by −m(w_j − w_low).
            segments.push((2.0 * p[j], -(w[j] - w[low]) / 2.0));
        }
    }
}

/// Per-outcome bounds: `min qᵀw` s.t. `low ≤ q ≤ high`, `Σq = 1`. Starts at `low` and fills
/// the lowest-valued outcomes up to `high`. The bounds must admit a distribution
/// ([`super::IntervalBounds::check`]).
pub fn interval_worst(
    low: &[f64],
    high: &[f64],
    w: &[f64],
    order: &mut Vec<usize>,
    out: &mut [f64],
) -> f64 {
    out.copy_from_slice(low);
    let mut left = 1.0 - low.iter().sum::<f64>();
    order.clear();
    order.extend(0..w.len());
    sort_by_value(order, w, false);
    for &j in order.iter() {
        if left <= 0.0 {
            break;
        }
        let add = (high[j] - low[j]).min(left);
        out[j] += add;
        left -= add;
    }
    dot(out, w)
}

/// The KL step's answer: the value of a feasible distribution, and how far above the true
/// minimum it may be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KlStep {
    /// `qᵀw` of the returned (feasible) distribution: an upper bound on the minimum.
    pub value: f64,
    /// `value − (a dual lower bound)`: the minimum lies in `[value − gap, value]`.
    pub gap: f64,
    /// The dual variable `λ` of the returned distribution (`0`: all mass on the minimisers
    /// of `w`; `∞`: the nominal distribution).
    pub lambda: f64,
}

/// KL ball: `min qᵀw` s.t. `KL(q ‖ p) = Σ q_j log(q_j/p_j) ≤ radius` (so `q ≪ p`).
///
/// Via the dual `max_{λ>0} −λ log Σ p_j e^{−w_j/λ} − λ·radius`, whose maximiser gives
/// `q_λ ∝ p e^{−w/λ}` with `KL(q_λ ‖ p) = radius` (`KL(q_λ‖p)` decreases in `λ`). `λ` is
/// found by bisection in `log λ`; the feasible end of the bracket gives the returned `q` and
/// an upper bound, the dual at both ends a lower bound. When `−log p(argmin w) ≤ radius`
/// nature can put all the mass on the minimisers: the answer is `min w`, exactly.
pub fn kl_worst(p: &[f64], w: &[f64], radius: f64, out: &mut [f64]) -> KlStep {
    out.copy_from_slice(p);
    let support = || (0..p.len()).filter(|&j| p[j] > 0.0);
    let (mut w_min, mut w_max) = (f64::INFINITY, f64::NEG_INFINITY);
    for j in support() {
        w_min = w_min.min(w[j]);
        w_max = w_max.max(w[j]);
    }
    let nominal = KlStep {
        value: dot(p, w),
        gap: 0.0,
        lambda: f64::INFINITY,
    };
    // Also when every `w` is equal (or NaN): nature cannot do better than the nominal.
    if radius <= 0.0 || w_max.partial_cmp(&w_min) != Some(Ordering::Greater) {
        return nominal;
    }
    let min_mass: f64 = support().filter(|&j| w[j] == w_min).map(|j| p[j]).sum();
    if -min_mass.ln() <= radius {
        for j in 0..p.len() {
            out[j] = if p[j] > 0.0 && w[j] == w_min {
                p[j] / min_mass
            } else {
                0.0
            };
        }
        return KlStep {
            value: w_min,
            gap: 0.0,
            lambda: 0.0,
        };
    }
    let spread = w_max - w_min;
    // A radius so small that Pinsker's inequality (|E_q w − E_p w| ≤ √(K/2)·spread) already
    // pins the answer down to rounding: the nominal distribution (feasible) with that
    // bracket. The dual below cannot resolve such a ball: its `λ` is huge and `λ·log Z`
    // multiplies every rounding error of `log Z` by it.
    let pinsker = (radius / 2.0).sqrt() * spread;
    if pinsker <= 1e-13 * (1.0 + nominal.value.abs()) {
        return KlStep {
            gap: pinsker,
            ..nominal
        };
    }
    let mass: f64 = support().map(|j| p[j]).sum();
    // (KL of q_λ, log Z(λ) with w shifted by w_min, E_q[w] − w_min), with Z the normalised
    // `Σ p e^{−(w−w_min)/λ}`. `Z − 1` is summed from `expm1` terms and `log Z` taken with
    // `ln_1p`, so that both keep their relative precision when `λ` is large and `Z` is
    // within rounding of 1 (small radii); `λ·log Z` would otherwise carry an error of
    // `λ·ε`.
    let tilt = |lambda: f64| -> (f64, f64, f64) {
        let mut z_minus_1 = 0.0;
        let mut zw = 0.0;
        for j in support() {
            let x = (w[j] - w_min) / lambda;
            let pj = p[j] / mass;
            z_minus_1 += pj * (-x).exp_m1();
            zw += pj * (-x).exp() * (w[j] - w_min);
        }
        let z = 1.0 + z_minus_1;
        let mean = zw / z;
        let log_z = z_minus_1.ln_1p();
        (-mean / lambda - log_z, log_z, mean)
    };
    let dual = |lambda: f64| -> f64 {
        let (_, log_z, _) = tilt(lambda);
        w_min - lambda * log_z - lambda * radius
    };
    // Bracket λ: KL(q_λ) > radius at `lo`, ≤ radius at `hi`.
    let mut hi = spread;
    let mut guard = 0;
    while tilt(hi).0 > radius && guard < 2000 {
        hi *= 2.0;
        guard += 1;
    }
    let mut lo = hi;
    guard = 0;
    while tilt(lo).0 <= radius && guard < 2000 {
        lo /= 2.0;
        guard += 1;
    }
    if tilt(lo).0 <= radius {
        // Could not leave the feasible side: nature is all but unconstrained.
        lo = 0.0;
    }
    for _ in 0..200 {
        let mid = if lo > 0.0 { (lo * hi).sqrt() } else { hi / 2.0 };
        if !(mid > lo && mid < hi) {
            break;
        }
        if tilt(mid).0 > radius {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let mut z = 0.0;
    for j in 0..p.len() {
        out[j] = if p[j] > 0.0 {
            p[j] * (-(w[j] - w_min) / hi).exp()
        } else {
            0.0
        };
        z += out[j];
    }
    for q in out.iter_mut() {
        *q /= z;
    }
    let value = dot(out, w).max(w_min);
    let lower = if lo > 0.0 {
        dual(hi).max(dual(lo))
    } else {
        dual(hi).max(w_min)
    };
    KlStep {
        value,
        gap: (value - lower).max(0.0),
        lambda: hi,
    }
}

/// `KL(q ‖ p)` (infinite when `q` is not absolutely continuous with respect to `p`).
pub fn kl_divergence(q: &[f64], p: &[f64]) -> f64 {
    let mut total = 0.0;
    for (&a, &b) in q.iter().zip(p) {
        if a > 0.0 {
            if b <= 0.0 {
                return f64::INFINITY;
            }
            total += a * (a / b).ln();
        }
    }
    total
}

/// The s-rectangular L1 step for one state. `actions[a] = (q_a(0), segments_a)` (see
/// [`l1_segments`]), already including each pair's reward. Returns the value of the
/// agent's randomised choice `weights` against nature's best allocation of the shared
/// budget `radius`, the upper end of the bracket on the exact answer (`value ≤ answer ≤
/// upper`), nature's allocation `xi`, and the weights.
///
/// The answer is `max_{d ∈ Δ} min_{Σξ_a ≤ K} Σ_a d_a q_a(ξ_a) = min_{Σξ_a ≤ K} max_a q_a(ξ_a)`
/// (a convex–concave saddle point): the smallest level `u` whose budget
/// `Σ_a min{ξ : q_a(ξ) ≤ u}` is at most `K`, found by bisection on `u`. The agent's weights
/// follow from the slopes at that level (`d_a ∝ 1/|q_a'|`), and their exact worst case is
/// computed by the greedy allocation, so `value` is what the returned weights guarantee.
pub fn s_rectangular_l1(
    actions: &[(f64, Vec<(f64, f64)>)],
    radius: f64,
    xi: &mut Vec<f64>,
    weights: &mut Vec<f64>,
) -> (f64, f64) {
    let m = actions.len();
    xi.clear();
    xi.resize(m, 0.0);
    weights.clear();
    weights.resize(m, 0.0);
    // Budget needed to bring action a down to level u, and the slope met there.
    let needed = |a: usize, u: f64| -> (f64, f64) {
        let (q0, segments) = &actions[a];
        if *q0 <= u {
            return (0.0, 0.0);
        }
        let (mut cur, mut used) = (*q0, 0.0);
        for &(len, slope) in segments {
            if slope < 0.0 && cur + slope * len <= u {
                return (used + (u - cur) / slope, slope);
            }
            cur += slope * len;
            used += len;
        }
        (f64::INFINITY, 0.0)
    };
    let budget = |u: f64| -> f64 { (0..m).map(|a| needed(a, u).0).sum() };
    let hi0 = actions
        .iter()
        .map(|a| a.0)
        .fold(f64::NEG_INFINITY, f64::max);
    let floor = actions
        .iter()
        .map(|(q0, segs)| q0 + segs.iter().map(|(l, s)| l * s).sum::<f64>())
        .fold(f64::NEG_INFINITY, f64::max);
    let (mut lo, mut hi) = (floor, hi0);
    if radius > 0.0 && budget(lo) <= radius {
        hi = lo;
    } else if radius > 0.0 {
        for _ in 0..200 {
            let mid = lo + (hi - lo) / 2.0;
            if !(mid > lo && mid < hi) {
                break;
            }
            if budget(mid) <= radius {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }
    // Candidate weights from the slopes just above and just below the level, and every
    // pure action (the answer when the budget drives every action to its floor).
    let mut best: Option<(f64, Vec<f64>, Vec<f64>)> = None;
    let mut consider = |d: Vec<f64>| {
        let mut alloc = vec![0.0; m];
        let value = greedy_allocation(actions, &d, radius, &mut alloc);
        if best.as_ref().is_none_or(|(v, _, _)| value > *v) {
            best = Some((value, d, alloc));
        }
    };
    for a in 0..m {
        let mut d = vec![0.0; m];
        d[a] = 1.0;
        consider(d);
    }
    for level in [hi, lo] {
        let mut d = vec![0.0; m];
        for (a, da) in d.iter_mut().enumerate() {
            let (need, slope) = needed(a, level);
            if need.is_finite() && need > 0.0 && slope < 0.0 {
                *da = 1.0 / -slope;
            }
        }
        let total: f64 = d.iter().sum();
        if total > 0.0 {
            d.iter_mut().for_each(|x| *x /= total);
        } else {
            let top = (0..m)
                .max_by(|&a, &b| {
                    actions[a]
                        .0
                        .partial_cmp(&actions[b].0)
                        .unwrap_or(Ordering::Equal)
                        .then(b.cmp(&a))
                })
                .unwrap_or(0);
            d[top] = 1.0;
        }
        consider(d);
    }
    let (value, d, alloc) = best.expect("two candidates");
    *weights = d;
    *xi = alloc;
    (value, hi.max(value))
}

/// Nature's best reply to the randomised choice `d`: spend the budget on the steepest
/// weighted segments first (each `q_a` is convex, so this is exact). Returns
/// `Σ_a d_a q_a(ξ_a)` and writes the allocation.
pub fn greedy_allocation(
    actions: &[(f64, Vec<(f64, f64)>)],
    d: &[f64],
    radius: f64,
    xi: &mut [f64],
) -> f64 {
    let mut pieces: Vec<(f64, usize, f64)> = Vec::new();
    let mut value = 0.0;
    for (a, (q0, segments)) in actions.iter().enumerate() {
        xi[a] = 0.0;
        if d[a] > 0.0 {
            value += d[a] * q0;
            for &(len, slope) in segments {
                pieces.push((d[a] * slope, a, len));
            }
        }
    }
    // Segments of one action are already in increasing slope; a stable sort keeps them so.
    pieces.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(Ordering::Equal));
    let mut left = radius;
    for (rate, a, len) in pieces {
        if left <= 0.0 || rate >= 0.0 {
            break;
        }
        let take = len.min(left);
        value += rate * take;
        xi[a] += take;
        left -= take;
    }
    value
}
