//! Exact methods: the subset DP (small n, the test oracle), successive sublimation dynamic
//! programming with Lagrangian bounds (proves optimality on the OR-Library sets), and Lawler's
//! decomposition for the unweighted problem.

pub mod lawler;
mod precedence;
pub mod ssdp;
pub mod subset_dp;

pub use precedence::Precedence;

use std::time::{Duration, Instant};

/// A point in time after which a method stops and returns what it has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    end: Option<Instant>,
}

impl Deadline {
    /// No deadline.
    pub(crate) fn none() -> Self {
        Deadline { end: None }
    }

    /// `seconds` from now (`None`: no deadline). Non-finite or huge values mean no deadline.
    pub(crate) fn after(seconds: Option<f64>) -> Self {
        let end = seconds
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
            .and_then(|s| Instant::now().checked_add(Duration::from_secs_f64(s)));
        Deadline { end }
    }

    /// Whether the deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        self.end.is_some_and(|end| Instant::now() >= end)
    }

    /// Seconds left (`None`: no deadline).
    pub(crate) fn remaining_seconds(&self) -> Option<f64> {
        self.end
            .map(|end| end.saturating_duration_since(Instant::now()).as_secs_f64())
    }
}
