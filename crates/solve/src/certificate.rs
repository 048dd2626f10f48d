//! MacQueen–Porteus bounds from one Bellman backup, the guaranteed policy gap, and the
//! floating-point allowance that keeps them honest.
//!
//! Let `V' = T V` be computed from `V`, `d = V' − V`, `c = γ/(1−γ)`, and π the policy greedy
//! for `V` (so `T_π V = T V`). Because `T` and `T_π` are monotone γ-contractions that commute
//! with adding constants,
//!
//! ```text
//!     V' + c·min(d) ≤ V*  ≤ V' + c·max(d)       and the same for V^π,
//! ```
//!
//! for maximisation and minimisation alike (Puterman 1994, §6.6.3; MacQueen 1966; Porteus
//! 1971). Hence `|V* − V^π| ≤ c·(max d − min d)` in every state: the policy gap.
//!
//! The computed `V'` carries rounding error. With `k` outcomes per pair, unit roundoff `u`,
//! `R = max|r(s,a)|` and `M = max(|V|, |V'|)`, each computed `q` is within
//! `δ = (k+2)·u·(R + γM)` of the true one (Higham, *Accuracy and Stability*, §3.1), and
//! policy iteration may keep an action whose `q` is within `2δ` of the best. The bounds are
//! widened by `rounding = (3δ + 2uM)/(1−γ) + 2u(M + c·max|d|)`, which covers those errors, the
//! error of `d`, and the final additions.

use decide_core::Certificate;

/// Unit roundoff of `f64`.
const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Statistics of one backup `V → V'`, merged exactly (min/max) across parallel chunks, so
/// they do not depend on the thread count.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackupStats {
    /// `min_s (V'(s) − V(s))`.
    pub min_diff: f64,
    /// `max_s (V'(s) − V(s))`.
    pub max_diff: f64,
    /// `max_s max(|V(s)|, |V'(s)|)`.
    pub max_abs_value: f64,
}

impl BackupStats {
    /// The neutral element of [`merge`](Self::merge).
    pub fn empty() -> Self {
        BackupStats {
            min_diff: f64::INFINITY,
            max_diff: f64::NEG_INFINITY,
            max_abs_value: 0.0,
        }
    }

    /// Adds one state's new and old value.
    #[inline]
    pub fn observe(&mut self, new: f64, old: f64) {
        let d = new - old;
        self.min_diff = self.min_diff.min(d);
        self.max_diff = self.max_diff.max(d);
        self.max_abs_value = self.max_abs_value.max(new.abs()).max(old.abs());
    }

    /// Adds a terminal state. Its value is fixed, so `T x − T y` is 0 there whatever `x − y`:
    /// the bounds' induction needs `min d ≤ 0 ≤ max d` as well as its actual change.
    #[inline]
    pub fn observe_terminal(&mut self, new: f64, old: f64) {
        self.observe(new, old);
        self.min_diff = self.min_diff.min(0.0);
        self.max_diff = self.max_diff.max(0.0);
    }

    /// Combines the statistics of two disjoint sets of states.
    pub fn merge(a: Self, b: Self) -> Self {
        BackupStats {
            min_diff: a.min_diff.min(b.min_diff),
            max_diff: a.max_diff.max(b.max_diff),
            max_abs_value: a.max_abs_value.max(b.max_abs_value),
        }
    }

    /// Largest `|V' − V|`: the sup-norm Bellman residual.
    pub fn residual(&self) -> f64 {
        self.min_diff.abs().max(self.max_diff.abs())
    }

    /// Whether every number seen is finite (no overflow or NaN crept in).
    pub fn is_finite(&self) -> bool {
        self.min_diff.is_finite() && self.max_diff.is_finite() && self.max_abs_value.is_finite()
    }
}

/// The rounding error bound `δ` of one computed `q` (see the module docs).
pub fn q_rounding(
    max_outcomes: usize,
    max_abs_reward: f64,
    discount: f64,
    max_abs_value: f64,
) -> f64 {
    (max_outcomes as f64 + 2.0) * UNIT_ROUNDOFF * (max_abs_reward + discount * max_abs_value)
}

/// Certified bounds: `V' + lower_offset ≤ V* ≤ V' + upper_offset` in every non-terminal state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Added to `V'` for the lower bound.
    pub lower_offset: f64,
    /// Added to `V'` for the upper bound.
    pub upper_offset: f64,
    /// The certificate these offsets give.
    pub certificate: Certificate,
    /// Whether what remains of the gap is rounding only (more sweeps cannot shrink it).
    pub rounding_dominated: bool,
}

/// The bounds one backup certifies (see the module docs for the derivation).
pub fn bounds(
    stats: &BackupStats,
    discount: f64,
    max_outcomes: usize,
    max_abs_reward: f64,
) -> Bounds {
    let c = discount / (1.0 - discount);
    let m = stats.max_abs_value;
    let delta = q_rounding(max_outcomes, max_abs_reward, discount, m);
    let rounding = (3.0 * delta + 2.0 * UNIT_ROUNDOFF * m) / (1.0 - discount)
        + 2.0 * UNIT_ROUNDOFF * (m + c * stats.residual());
    let lower_offset = c * stats.min_diff - rounding;
    let upper_offset = c * stats.max_diff + rounding;
    let policy_gap = upper_offset - lower_offset;
    Bounds {
        lower_offset,
        upper_offset,
        certificate: Certificate {
            residual: stats.residual(),
            policy_gap,
            value_error: policy_gap / 2.0,
            rounding,
        },
        rounding_dominated: c * (stats.max_diff - stats.min_diff) <= 2.0 * rounding,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_change_gives_only_rounding() {
        let mut s = BackupStats::empty();
        s.observe(0.0, 0.0);
        let b = bounds(&s, 0.99, 3, 0.0);
        assert_eq!(b.certificate.residual, 0.0);
        assert_eq!(b.certificate.policy_gap, 0.0);
        assert!(b.rounding_dominated);
    }

    #[test]
    fn constant_change_is_extrapolated_exactly() {
        // One state, reward 1, γ = 0.999, from V = 0: V' = 1, d = 1; V* = 1000 = 1 + c·1.
        let mut s = BackupStats::empty();
        s.observe(1.0, 0.0);
        let b = bounds(&s, 0.999, 1, 1.0);
        assert!((1.0 + b.lower_offset - 1000.0).abs() < 1e-9);
        assert!((1.0 + b.upper_offset - 1000.0).abs() < 1e-9);
        assert!(b.certificate.policy_gap < 1e-9);
    }
}
