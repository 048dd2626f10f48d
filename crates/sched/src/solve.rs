//! One entry point for every method, and the result shape shared with decide's MDP solvers:
//! what was found (`sequence`, `objective`), how good it is proven to be (`lower_bound`,
//! `proven_optimal`), and why the run ended (`status`).

use crate::exact::{Deadline, lawler, ssdp, subset_dp};
use crate::instance::Instance;
use crate::local_search::{self, IteratedDynasearchOptions};
use crate::rules;
use serde::Serialize;
use std::fmt;
use std::time::Instant;

/// How to build a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Earliest due date ([`rules::edd`]).
    Edd,
    /// Shortest processing time ([`rules::spt`]).
    Spt,
    /// Modified due date ([`rules::mdd`]).
    Mdd,
    /// Apparent tardiness cost ([`rules::atc`]) with [`SolveOptions::atc_lookahead`].
    Atc,
    /// EDD Challenger ([`rules::eddc`]).
    Eddc,
    /// MDD Challenger ([`rules::mddc`]).
    Mddc,
    /// Panwalkar–Smith–Koulamas ([`rules::psk`]).
    Psk,
    /// Augmented MDD ([`rules::augmented_mdd`]).
    AugmentedMdd,
    /// Augmented MDDC ([`rules::augmented_mddc`]).
    AugmentedMddc,
    /// The best non-exact method: every rule, then iterated dynasearch from the best of them
    /// until the time limit (1 s when none is given).
    Heuristic,
    /// Proven optimal when time allows: the subset DP for n ≤ 16; otherwise Lawler's
    /// decomposition when all weights are equal (half of the time), then an incumbent from
    /// iterated dynasearch and successive sublimation dynamic programming ([`ssdp`]) for the
    /// rest of the time.
    Exact,
}

impl Method {
    /// Every method, in the order of the command line's help.
    pub const ALL: [Method; 11] = [
        Method::Edd,
        Method::Spt,
        Method::Mdd,
        Method::Atc,
        Method::Eddc,
        Method::Mddc,
        Method::Psk,
        Method::AugmentedMdd,
        Method::AugmentedMddc,
        Method::Heuristic,
        Method::Exact,
    ];

    /// The spelling on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Edd => "edd",
            Method::Spt => "spt",
            Method::Mdd => "mdd",
            Method::Atc => "atc",
            Method::Eddc => "eddc",
            Method::Mddc => "mddc",
            Method::Psk => "psk",
            Method::AugmentedMdd => "augmented-mdd",
            Method::AugmentedMddc => "augmented-mddc",
            Method::Heuristic => "heuristic",
            Method::Exact => "exact",
        }
    }

    /// Whether this is one of the constructive dispatching rules (no search).
    pub fn is_rule(self) -> bool {
        !matches!(self, Method::Heuristic | Method::Exact)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Method {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
                format!(
                    "unknown method {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The sequence is proven optimal (`lower_bound == objective`).
    Optimal,
    /// A heuristic finished; nothing is proven beyond `lower_bound`.
    Heuristic,
    /// The exact method hit the time limit: best sequence and bound so far.
    TimeLimit,
    /// The exact method's state space outgrew its memory limits: best sequence and bound so far.
    MemoryLimit,
}

impl Status {
    /// The snake_case spelling used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Optimal => "optimal",
            Status::Heuristic => "heuristic",
            Status::TimeLimit => "time_limit",
            Status::MemoryLimit => "memory_limit",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of [`solve`].
#[derive(Clone, Debug, PartialEq)]
pub struct SolveOptions {
    /// Seconds for the whole run of `heuristic` or `exact` (rules ignore it).
    pub time_limit: Option<f64>,
    /// ATC's look-ahead parameter k.
    pub atc_lookahead: f64,
    /// Seed of the random kicks of iterated dynasearch.
    pub seed: u64,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: None,
            atc_lookahead: rules::DEFAULT_ATC_LOOKAHEAD,
            seed: 0x5EED,
        }
    }
}

/// A schedule and what is known about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScheduleSolution {
    /// Jobs in processing order (0-based input positions).
    pub sequence: Vec<usize>,
    /// Σ w_j T_j of `sequence`.
    pub objective: i64,
    /// A proven lower bound on the optimal objective.
    pub lower_bound: i64,
    /// Whether `sequence` is proven optimal.
    pub proven_optimal: bool,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// The method asked for.
    pub method: Method,
    /// Why the run ended.
    pub status: Status,
}

/// Look-ahead values tried by `heuristic` for ATC, around Vepsalainen & Morton's range.
const ATC_LOOKAHEADS: [f64; 5] = [0.5, 1.0, 2.0, 3.0, 4.5];

/// Up to this many jobs, `exact` uses the subset DP (2^16 · 16 steps, milliseconds).
const SUBSET_DP_JOBS: usize = 16;

/// Builds a schedule for `instance` with `method`.
pub fn solve(instance: &Instance, method: Method, options: &SolveOptions) -> ScheduleSolution {
    let clock = Instant::now();
    let deadline = Deadline::after(options.time_limit);
    let (sequence, lower_bound, status) = match method {
        Method::Heuristic => {
            let start = best_rule(instance, options);
            // On small instances the subset DP knows the optimum within milliseconds: the
            // search then stops as soon as it reaches it (and says it is optimal) instead of
            // spending its whole time limit looking for something better.
            let optimum = if instance.n_jobs() <= SUBSET_DP_JOBS {
                subset_dp::solve_until(instance, &deadline).map(|(_, cost)| cost)
            } else {
                None
            };
            let found = local_search::iterated_dynasearch(
                instance,
                &start,
                &IteratedDynasearchOptions {
                    time_limit: Some(options.time_limit.unwrap_or(1.0)),
                    max_kicks: None,
                    target: Some(optimum.unwrap_or(0)),
                    seed: options.seed,
                },
            );
            (found.sequence, optimum.unwrap_or(0), Status::Heuristic)
        }
        Method::Exact => exact(instance, options, &deadline),
        rule => (rule_sequence(instance, rule, options), 0, Status::Heuristic),
    };
    let objective = instance.objective(&sequence);
    // Tardiness is never negative, so a schedule of cost 0 is optimal whatever found it.
    let (lower_bound, status) = if objective == 0 || lower_bound >= objective {
        (objective, Status::Optimal)
    } else {
        (lower_bound.max(0), status)
    };
    ScheduleSolution {
        sequence,
        objective,
        lower_bound,
        proven_optimal: status == Status::Optimal,
        seconds: clock.elapsed().as_secs_f64(),
        method,
        status,
    }
}

/// The sequence of a dispatching rule (`heuristic` and `exact` fall back to the best rule).
fn rule_sequence(instance: &Instance, method: Method, options: &SolveOptions) -> Vec<usize> {
    match method {
        Method::Edd => rules::edd(instance),
        Method::Spt => rules::spt(instance),
        Method::Mdd => rules::mdd(instance),
        Method::Atc => rules::atc(instance, options.atc_lookahead),
        Method::Eddc => rules::eddc(instance),
        Method::Mddc => rules::mddc(instance),
        Method::Psk => rules::psk(instance),
        Method::AugmentedMdd => rules::augmented_mdd(instance),
        Method::AugmentedMddc => rules::augmented_mddc(instance),
        Method::Heuristic | Method::Exact => best_rule(instance, options),
    }
}

/// The cheapest sequence among all rules (ATC with several look-ahead values).
fn best_rule(instance: &Instance, options: &SolveOptions) -> Vec<usize> {
    let mut candidates = vec![
        rules::edd(instance),
        rules::spt(instance),
        rules::mdd(instance),
        rules::eddc(instance),
        rules::mddc(instance),
        rules::psk(instance),
        rules::augmented_mdd(instance),
        rules::augmented_mddc(instance),
        rules::atc(instance, options.atc_lookahead),
    ];
    candidates.extend(ATC_LOOKAHEADS.iter().map(|&k| rules::atc(instance, k)));
    candidates
        .into_iter()
        .min_by_key(|s| instance.objective(s))
        .expect("at least one rule")
}

/// The exact method; returns the sequence, a lower bound and the status.
fn exact(
    instance: &Instance,
    options: &SolveOptions,
    deadline: &Deadline,
) -> (Vec<usize>, i64, Status) {
    let n = instance.n_jobs();
    if n <= SUBSET_DP_JOBS {
        if let Some((sequence, cost)) = subset_dp::solve_until(instance, deadline) {
            return (sequence, cost, Status::Optimal);
        }
        let sequence = best_rule(instance, options);
        return (sequence, 0, Status::TimeLimit);
    }
    let all_equal_weights = instance
        .jobs()
        .iter()
        .all(|j| j.weight == instance.job(0).weight);
    if all_equal_weights {
        // Lawler's decomposition needs no incumbent and is fast on unweighted instances, but
        // gives no bound when stopped, so it gets half of the time and SSDP the rest.
        let lawler_deadline = match deadline.remaining_seconds() {
            Some(left) => Deadline::after(Some(0.5 * left)),
            None => Deadline::none(),
        };
        if let Some((sequence, cost)) = lawler::solve_until(instance, &lawler_deadline) {
            return (sequence, cost, Status::Optimal);
        }
    }
    // A strong incumbent first: elimination in SSDP compares every state with it.
    let search_seconds = match deadline.remaining_seconds() {
        Some(left) => (0.2 * left).min(0.5),
        None => 0.5,
    };
    let start = best_rule(instance, options);
    let incumbent = local_search::iterated_dynasearch(
        instance,
        &start,
        &IteratedDynasearchOptions {
            time_limit: Some(search_seconds),
            max_kicks: None,
            target: Some(0),
            seed: options.seed,
        },
    );
    if incumbent.objective == 0 {
        return (incumbent.sequence, 0, Status::Optimal);
    }
    let outcome = ssdp::solve_until(
        instance,
        &incumbent.sequence,
        &ssdp::SsdpOptions::default(),
        deadline,
    );
    let status = match outcome.stop {
        None => Status::Optimal,
        Some(ssdp::StopReason::TimeLimit) => Status::TimeLimit,
        Some(ssdp::StopReason::MemoryLimit) => Status::MemoryLimit,
    };
    (outcome.sequence, outcome.lower_bound, status)
}
