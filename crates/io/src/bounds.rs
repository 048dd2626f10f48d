//! Interval bounds on transition probabilities, for robust solving with `--ambiguity
//! interval`: per outcome, `probability_low ≤ p(s'|s,a) ≤ probability_high`.
//!
//! | format | how |
//! |---|---|
//! | CSV | two optional columns `probability_low,probability_high` (both or neither) |
//! | JSON | transitions of 7 elements `[state, action, next_state, probability, reward, low, high]` (all of them, or none) |
//!
//! A model with bounds keeps its zero-probability outcomes (nature may give them mass),
//! repeated `(state, action, next_state)` rows add their bounds like their probabilities, and
//! the bounds are checked when the model is read: `0 ≤ low ≤ high ≤ 1` on every row, and for
//! every (state, action) `Σ low ≤ 1 ≤ Σ high` (within the probability tolerance), so that the
//! set is not empty. A failure names the file, the line, the state and the action. The
//! nominal `probability` need not lie within its bounds: the interval set does not use it
//! (the other sets, and plain solving, do).

use crate::{ReadError, ReadErrorKind};
use decide_core::{StateId, TabularMdp};
use std::collections::HashMap;
use std::path::Path;

/// The CSV columns of the bounds.
pub const COLUMNS: [&str; 2] = ["probability_low", "probability_high"];

/// Per-outcome bounds aligned with the compiled model's outcomes: entry `j` bounds outcome
/// `j` of [`TabularMdp::csr`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutcomeBounds {
    /// Lower bounds.
    pub low: Vec<f64>,
    /// Upper bounds.
    pub high: Vec<f64>,
}

/// One row's bounds as read, with where it was read from.
#[derive(Clone, Debug)]
pub(crate) struct BoundsRow {
    pub(crate) key: (u64, u64, u64),
    pub(crate) low: f64,
    pub(crate) high: f64,
    /// The line of the row.
    pub(crate) line: u64,
    /// JSON: the element's place, `transitions[12]`.
    pub(crate) place: Option<usize>,
}

fn located(row: &BoundsRow) -> String {
    match row.place {
        Some(k) => format!("transitions[{k}]: "),
        None => String::new(),
    }
}

/// Checks `rows` and aligns them with `mdp`'s outcomes.
pub(crate) fn align(
    path: &Path,
    mdp: &TabularMdp,
    rows: &[BoundsRow],
    tolerance: f64,
) -> Result<OutcomeBounds, ReadError> {
    let error = |row: &BoundsRow, message: String| {
        ReadError::new(
            path,
            Some(row.line),
            ReadErrorKind::Format(format!("{}{message}", located(row))),
        )
    };
    // Per key: summed bounds and the first row (for messages).
    let mut merged: HashMap<(u64, u64, u64), (f64, f64, usize)> = HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        let (s, a, n) = row.key;
        let (l, h) = (row.low, row.high);
        if !(l.is_finite() && h.is_finite() && 0.0 <= l && l <= h && h <= 1.0) {
            return Err(error(
                row,
                format!(
                    "state {s}, action {a}, next state {n}: probability_low {l} and probability_high {h} must satisfy 0 <= low <= high <= 1"
                ),
            ));
        }
        let entry = merged.entry(row.key).or_insert((0.0, 0.0, i));
        entry.0 += l;
        entry.1 += h;
    }
    let csr = mdp.csr();
    let mut bounds = OutcomeBounds {
        low: vec![0.0; mdp.n_transitions()],
        high: vec![0.0; mdp.n_transitions()],
    };
    for s in 0..mdp.n_states() {
        for k in mdp.pairs(StateId(s as u32)) {
            let a = u64::from(mdp.pair_action(k).0);
            let (mut lo, mut hi, mut first) = (0.0, 0.0, usize::MAX);
            for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                let key = (s as u64, a, u64::from(csr.next[j]));
                let (l, h, i) = merged.get(&key).copied().unwrap_or((0.0, 0.0, usize::MAX));
                bounds.low[j] = l.min(1.0);
                bounds.high[j] = h.min(1.0);
                lo += bounds.low[j];
                hi += bounds.high[j];
                first = first.min(i);
            }
            if lo > 1.0 + tolerance || hi < 1.0 - tolerance {
                let row = &rows[first.min(rows.len().saturating_sub(1))];
                let why = if lo > 1.0 + tolerance {
                    format!("the probability_low values sum to {lo} > 1")
                } else {
                    format!("the probability_high values sum to {hi} < 1")
                };
                return Err(error(
                    row,
                    format!(
                        "state {s}, action {a}: the interval bounds admit no distribution: {why}"
                    ),
                ));
            }
        }
    }
    Ok(bounds)
}
