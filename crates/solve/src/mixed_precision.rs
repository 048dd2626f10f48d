//! Solving a model held with `f32` probabilities (4 bytes less per transition) with a
//! certificate that is still exact.
//!
//! The sweeps run on the rounded model in memory. Its solution is not the model's: rounding a
//! probability to `f32` moves it by up to 2⁻²⁴ of itself, which moves `V` by up to about
//! `γ/(1−γ)·2⁻²⁴·span(V)` — above a tolerance of 1e-6 on slow-mixing models. So the result is
//! certified, and if need be corrected, against the **exact** probabilities, read again from
//! the model's file a block at a time ([`OutcomeSource`]) and never held whole:
//!
//! 1. solve the rounded model to a quarter of the tolerance; `V` is its solution;
//! 2. one exact Bellman backup, streamed: `T V`, its greedy policy `π` and the statistics of
//!    `T V − V` give MacQueen bounds on the exact `V*` — the certificate, as for any solve;
//! 3. if the gap is still above the tolerance, a defect correction (iterative refinement):
//!    the exact residual `r = T_π V − V` is what the rounding left; solve `d = r + γ P̃_π d`
//!    with in-memory sweeps of the rounded `P̃_π` (a contraction, fast) and set `V ← V + d`.
//!    The exact equation is `d = r + γ P_π d`, so the new residual is about
//!    `γ (P_π − P̃_π) d`, 2⁻²⁴ of the old one, plus what the sweeps left: one round usually
//!    suffices. Then back to 2.
//!
//! Every outcome read back is checked against the model in memory (same next state, and a
//! probability that rounds to the stored `f32`): a file changed during the solve is an error,
//! never a wrong certificate.

use crate::Algorithm;
use crate::bellman::{NO_PAIR, backup_with_outcomes, policy_backup_with_rewards};
use crate::certificate::BackupStats;
use crate::runner::{Current, Problem, SolveError, certified_solution, solve_with, stop_requested};
use decide_core::model::{OutcomeSource, round_probability};
use decide_core::{Control, Interrupt, Limits, Observer, Probabilities, Solution, Status};
use std::time::Instant;

/// Outcomes read back per block (12 bytes each: 3 MB).
const BLOCK_OUTCOMES: usize = 1 << 18;
/// Exact backups at most (each followed by a correction when the gap is too wide).
const MAX_ROUNDS: u32 = 6;
/// Correction sweeps at most per round.
const MAX_CORRECTION_SWEEPS: u32 = 100_000;

/// Solves `problem` — whose model holds `f32` probabilities — certified against the exact
/// outcomes from `exact` (see the module docs). A model with exact probabilities is simply
/// solved. Discounted criterion only.
pub fn solve_mixed_precision(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
    exact: &mut dyn OutcomeSource,
) -> Result<Solution, SolveError> {
    if problem.model.csr().probability.is_exact() {
        return solve_with(problem, algorithm, limits, observer, interrupt);
    }
    if !matches!(
        problem.objective.criterion,
        decide_core::Criterion::Discounted { .. }
    ) {
        return Err(SolveError::UnsupportedCriterion {
            algorithm: "f32 probabilities",
            criterion: problem.objective.criterion.as_str(),
        });
    }
    let started = Instant::now();
    let rounded_limits = Limits {
        tolerance: limits.tolerance / 4.0,
        ..limits.clone()
    };
    let rounded = solve_with(problem, algorithm, &rounded_limits, observer, interrupt)?;
    let pool = crate::runner::thread_pool(limits)?;
    pool.install(|| certify(problem, limits, interrupt, exact, rounded, &started))
}

fn certify(
    problem: &Problem<'_>,
    limits: &Limits,
    interrupt: &Interrupt,
    exact: &mut dyn OutcomeSource,
    rounded: Solution,
    started: &Instant,
) -> Result<Solution, SolveError> {
    let n = problem.model.n_states();
    let c = problem.discount() / (1.0 - problem.discount());
    // Only the values go on; the rounded model's bounds mean nothing for the exact one.
    let Solution {
        mut values,
        report: rounded_report,
        ..
    } = rounded;
    let mut backup = vec![0.0; n];
    let mut policy = vec![NO_PAIR; n];
    let mut status = rounded_report.status;
    let (mut passes, mut correction_sweeps) = (0u64, 0u64);
    let mut buffers = Buffers::default();
    let bounds = loop {
        let stats = exact_backup(
            problem,
            exact,
            &mut buffers,
            &values,
            &mut backup,
            &mut policy,
        )?;
        passes += 1;
        if !stats.is_finite() {
            return Err(SolveError::NonFinite { iterations: passes });
        }
        let bounds = problem.bounds(&stats);
        // A rounded solve stopped by a limit (time, interrupt, ...) keeps its status: its
        // values are certified once, not refined.
        let limited = !matches!(status, Status::Converged | Status::PrecisionLimit);
        if limited {
            break bounds;
        }
        if bounds.certificate.policy_gap <= limits.tolerance {
            status = Status::Converged;
            break bounds;
        }
        if bounds.rounding_dominated || passes >= u64::from(MAX_ROUNDS) {
            status = Status::PrecisionLimit;
            break bounds;
        }
        if let Some(stop) = stop_requested(Control::Continue, interrupt, limits, started, 0) {
            status = stop;
            break bounds;
        }
        correction_sweeps += correct(problem, &policy, &values, &mut backup, c, limits.tolerance);
        // `correct` left the corrected values in `backup`.
        std::mem::swap(&mut values, &mut backup);
    };
    let (values, policy, lower, upper) = certified_solution(
        problem,
        Current {
            backup: &backup,
            policy: &policy,
        },
        &bounds,
    );
    let mut report = rounded_report;
    report.status = status;
    report.sweeps += passes + correction_sweeps;
    report.elapsed = started.elapsed();
    report.certificate = bounds.certificate;
    report.tolerance = limits.tolerance;
    report.notes.push(format!(
        "probabilities held as f32; the certificate comes from {passes} exact backup(s) reading the f64 probabilities back from the model file{}",
        if correction_sweeps > 0 {
            format!(", after {correction_sweeps} correction sweep(s)")
        } else {
            String::new()
        }
    ));
    Ok(Solution {
        values,
        policy,
        lower,
        upper,
        report,
        gain: None,
        stages: None,
    })
}

/// Reusable read-back buffers.
#[derive(Default)]
struct Buffers {
    next: Vec<u32>,
    probability: Vec<f64>,
}

/// `out = T v` with the exact probabilities from `exact`, block by block, checking each
/// outcome against the model in memory.
fn exact_backup(
    problem: &Problem<'_>,
    exact: &mut dyn OutcomeSource,
    buffers: &mut Buffers,
    v: &[f64],
    out: &mut [f64],
    policy: &mut [usize],
) -> Result<BackupStats, SolveError> {
    let csr = problem.model.csr();
    let Probabilities::F32(rounded) = csr.probability else {
        unreachable!("only models held with f32 probabilities are certified here");
    };
    let read_error = |e: std::io::Error| SolveError::ExactOutcomes(e.to_string());
    exact.rewind().map_err(read_error)?;
    let n = problem.model.n_states();
    let mut stats = BackupStats::empty();
    let mut first = 0;
    while first < n {
        // States whose outcomes fill about one block (at least one state).
        let o0 = csr.pair_outcomes[csr.state_pairs[first]];
        let mut last = first + 1;
        let limit = o0 + BLOCK_OUTCOMES;
        let (mut low, mut high) = (last, n);
        while low < high {
            let mid = (low + high).div_ceil(2);
            if csr.pair_outcomes[csr.state_pairs[mid]] <= limit {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        last = last.max(low);
        let o1 = csr.pair_outcomes[csr.state_pairs[last]];
        let count = o1 - o0;
        buffers.next.resize(count, 0);
        buffers.probability.resize(count, 0.0);
        exact
            .read(&mut buffers.next, &mut buffers.probability)
            .map_err(read_error)?;
        if let Some(j) = (0..count).find(|&j| {
            buffers.next[j] != csr.next[o0 + j]
                || round_probability(buffers.probability[j]) != rounded[o0 + j]
        }) {
            return Err(SolveError::ExactOutcomes(format!(
                "outcome {} read back from the model file differs from the one loaded (next state {}, probability {}); was the file changed during the solve?",
                o0 + j,
                buffers.next[j],
                buffers.probability[j]
            )));
        }
        stats = BackupStats::merge(
            stats,
            backup_with_outcomes(
                problem.model,
                problem.sense(),
                problem.discount(),
                v,
                first,
                &mut out[first..last],
                &mut policy[first..last],
                &buffers.next,
                &buffers.probability,
            ),
        );
        first = last;
    }
    Ok(stats)
}

/// Defect correction: with `residual = backup − values` (exact, for the greedy `policy`),
/// sweeps `d ← residual + γ P̃_π d` on the rounded model until the sweeps' change has a span
/// the certificate can absorb (`c·span ≤ tolerance/4`); writes `values + d` into `backup`.
/// Returns the sweeps made.
fn correct(
    problem: &Problem<'_>,
    policy: &[usize],
    values: &[f64],
    backup: &mut [f64],
    c: f64,
    tolerance: f64,
) -> u64 {
    let residual: Vec<f64> = backup
        .iter()
        .zip(values)
        .zip(policy)
        .map(|((b, v), &k)| if k == NO_PAIR { 0.0 } else { b - v })
        .collect();
    let mut d = residual.clone();
    let mut next = vec![0.0; d.len()];
    let goal = tolerance / (4.0 * c);
    let mut sweeps = 0;
    while sweeps < MAX_CORRECTION_SWEEPS {
        let stats = policy_backup_with_rewards(
            problem.model,
            problem.discount(),
            policy,
            &residual,
            &d,
            &mut next,
        );
        std::mem::swap(&mut d, &mut next);
        sweeps += 1;
        let span = stats.max_diff - stats.min_diff;
        if span <= goal || !span.is_finite() {
            break;
        }
    }
    for ((b, v), d) in backup.iter_mut().zip(values).zip(&d) {
        *b = v + d;
    }
    u64::from(sweeps)
}
