//! Finite horizon: backward induction (Puterman 1994, §4.5).
//!
//! `V_T = final values` (a terminal state's value, 0 elsewhere, unless given), and for
//! `t = T−1, …, 0`: `V_t(s) = best_a r_t(s,a) + γ Σ p_t(s'|s,a) V_{t+1}(s')`, the decision at
//! stage `t` being the best action. The model may be stationary (one model for every stage) or
//! stage-dependent (one per stage, all with the same states). Memory: the models plus
//! `T·S` values and decisions. The answer is exact up to rounding; the bounds add `T·δ`, with
//! `δ` the rounding bound of one backup (see [`crate::certificate`]).

use crate::Algorithm;
use crate::bellman::{NO_PAIR, backup};
use crate::certificate::q_rounding;
use crate::runner::{Problem, SolveError};
use decide_core::{
    Certificate, Control, Iteration, Observer, Report, RunInfo, Sense, Solution, StagePlan, Status,
    TabularMdp,
};
use std::time::Instant;

/// Solves a stationary finite-horizon problem (the criterion must be `FiniteHorizon`).
pub fn solve_finite(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    observer: &mut (dyn Observer + Send),
) -> Result<Solution, SolveError> {
    let decide_core::Criterion::FiniteHorizon { horizon, discount } = problem.objective.criterion
    else {
        return Err(SolveError::UnsupportedCriterion {
            algorithm: "backward_induction",
            criterion: problem.objective.criterion.as_str(),
        });
    };
    if algorithm != Algorithm::Auto {
        return Err(SolveError::UnsupportedCriterion {
            algorithm: algorithm.as_str(),
            criterion: "finite",
        });
    }
    backward_induction(
        &[problem.model],
        horizon,
        discount,
        problem.sense(),
        None,
        observer,
    )
}

/// Backward induction over `horizon` stages. `stages` holds one model (stationary) or
/// `horizon` models (stage `t` uses `stages[t]`); `final_values` are the values after the last
/// decision (default: terminal values, 0 elsewhere).
pub fn backward_induction(
    stages: &[&TabularMdp],
    horizon: u32,
    discount: f64,
    sense: Sense,
    final_values: Option<&[f64]>,
    observer: &mut (dyn Observer + Send),
) -> Result<Solution, SolveError> {
    let started = Instant::now();
    let first = stages
        .first()
        .ok_or(SolveError::StageCount { given: 0, horizon })?;
    if stages.len() != 1 && stages.len() != horizon as usize {
        return Err(SolveError::StageCount {
            given: stages.len(),
            horizon,
        });
    }
    let n = first.n_states();
    if let Some(bad) = stages.iter().position(|m| m.n_states() != n) {
        return Err(SolveError::StageStates {
            stage: bad,
            states: stages[bad].n_states(),
            expected: n,
        });
    }
    observer.on_start(&RunInfo {
        algorithm: "backward_induction",
        n_states: n,
        n_transitions: stages.iter().map(|m| m.n_transitions()).sum(),
        tolerance: 0.0,
    });
    let mut next: Vec<f64> = match final_values {
        Some(v) => v.to_vec(),
        None => (0..n).map(|s| first.terminal_value(s)).collect(),
    };
    let mut values_by_stage = vec![Vec::new(); horizon as usize];
    let mut policy_by_stage = vec![Vec::new(); horizon as usize];
    let mut rounding = 0.0;
    let mut pairs = vec![NO_PAIR; n];
    let mut current = vec![0.0; n];
    let mut max_outcomes = 0;
    for t in (0..horizon as usize).rev() {
        let model = if stages.len() == 1 {
            stages[0]
        } else {
            stages[t]
        };
        max_outcomes = max_outcomes.max(model.max_outcomes());
        let stats = backup(
            model,
            sense,
            discount,
            &next,
            &mut current,
            &mut pairs,
            None,
        );
        let max_reward = model
            .csr()
            .pair_reward
            .iter()
            .fold(0.0f64, |m, r| m.max(r.abs()));
        // Errors of later stages reach this one scaled by γ^(steps) ≤ 1.
        rounding = q_rounding(max_outcomes, max_reward, discount, stats.max_abs_value)
            + discount * rounding;
        values_by_stage[t] = current.clone();
        policy_by_stage[t] = pairs
            .iter()
            .map(|&k| (k != NO_PAIR).then(|| model.pair_action(k)))
            .collect();
        std::mem::swap(&mut next, &mut current);
        let control = observer.on_iteration(&Iteration {
            index: (horizon as usize - t) as u64,
            max_change: stats.residual(),
            policy_gap: None,
            policy_changes: None,
            elapsed: started.elapsed(),
        });
        if control == Control::Stop {
            // Backward induction is only meaningful complete; an observer stop is an error.
            return Err(SolveError::Stopped);
        }
    }
    let (values, policy) = match horizon {
        0 => (next.clone(), vec![None; n]),
        _ => (values_by_stage[0].clone(), policy_by_stage[0].clone()),
    };
    let lower = values.iter().map(|v| v - rounding).collect();
    let upper = values.iter().map(|v| v + rounding).collect();
    let report = Report {
        algorithm: "backward_induction",
        status: Status::Converged,
        iterations: horizon as u64,
        sweeps: horizon as u64,
        elapsed: started.elapsed(),
        certificate: Certificate {
            residual: 0.0,
            policy_gap: 2.0 * rounding,
            value_error: rounding,
            rounding,
        },
        tolerance: 0.0,
        criterion: "finite",
        notes: Vec::new(),
    };
    observer.on_finish(&report);
    Ok(Solution {
        values,
        policy,
        lower,
        upper,
        report,
        gain: None,
        stages: Some(StagePlan {
            values: values_by_stage,
            policy: policy_by_stage,
        }),
    })
}
