//! Total reward until termination (stochastic shortest paths, discount 1).
//!
//! The failures users report against other tools happen here: with discount 1 policy
//! evaluation of a policy that never terminates is a singular system, and policy iteration
//! started from such a policy loops or divides by zero. decide therefore
//!
//! 1. finds the **terminating states**: those the model marks terminal, and those whose every
//!    action returns to them with probability 1 and reward 0;
//! 2. builds a **proper policy** (one that terminates with probability 1 from every state) by
//!    a backward breadth-first search from the terminating states, or reports the states from
//!    which no policy terminates;
//! 3. runs policy iteration from a proper policy (a user's improper starting policy is
//!    reported and repaired state by state), checking after each improvement that the policy
//!    is still proper — under the standard SSP assumption (every improper policy has unbounded
//!    cost from some state) it always is (Bertsekas & Tsitsiklis 1991);
//! 4. for value iteration, checks the greedy policy periodically by exact evaluation and stops
//!    at a policy-iteration fixed point, or reports the improper policy whose values grow
//!    without bound.
//!
//! The certificate: at a fixed point the returned values `V = V^π` satisfy
//! `|V − T_π V| ≤ ρ` (solve residual), so `|V^π(s) − V(s)| ≤ τ_π(s)·ρ` where `τ_π(s)` is the
//! expected number of steps to termination from `s`; the bounds add that and a rounding
//! allowance. The policy gap reported is `max_s τ_π(s) · max(0, improvement)`: exact for the
//! returned policy's own value, and a bound on sub-optimality under the SSP assumption.

use crate::Algorithm;
use crate::bellman::{NO_PAIR, backup};
use crate::certificate::{BackupStats, q_rounding};
use crate::evaluate::{evaluate, expected_steps};
use crate::runner::{Problem, SolveError};
use decide_core::{
    ActionId, Certificate, Control, Interrupt, Iteration, Limits, Observer, Report, RunInfo,
    Solution, StateId, Status, TabularMdp,
};
use std::collections::VecDeque;
use std::time::Instant;

/// States where the process ends: marked terminal, or absorbing with reward 0 under every
/// action.
pub fn terminating_states(mdp: &TabularMdp) -> Vec<bool> {
    (0..mdp.n_states())
        .map(|s| {
            let id = StateId(s as u32);
            mdp.is_terminal(id)
                || mdp
                    .pairs(id)
                    .all(|k| mdp.pair_reward(k) == 0.0 && mdp.outcomes(k).all(|o| o.next == id))
        })
        .collect()
}

/// The policy used for evaluation: terminating states become [`NO_PAIR`] (their value is
/// fixed: the terminal value, or 0 for an absorbing zero-reward state).
fn as_evaluated(policy: &[usize], terminating: &[bool]) -> Vec<usize> {
    policy
        .iter()
        .zip(terminating)
        .map(|(&k, &t)| if t { NO_PAIR } else { k })
        .collect()
}

/// A proper policy (pair per state; terminating states keep any action) built by backward
/// breadth-first search, or the states from which no policy reaches a terminating state.
pub fn proper_policy(mdp: &TabularMdp, terminating: &[bool]) -> Result<Vec<usize>, Vec<StateId>> {
    let n = mdp.n_states();
    let csr = mdp.csr();
    // Reverse edges: for each next state, the pairs that can reach it.
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut pair_state = vec![0usize; mdp.n_pairs()];
    for s in 0..n {
        for k in csr.state_pairs[s]..csr.state_pairs[s + 1] {
            pair_state[k] = s;
            for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                incoming[csr.next[j] as usize].push(k);
            }
        }
    }
    let mut policy = vec![NO_PAIR; n];
    let mut reached = terminating.to_vec();
    let mut queue: VecDeque<usize> = (0..n).filter(|&s| terminating[s]).collect();
    for s in 0..n {
        if terminating[s] && csr.state_pairs[s] < csr.state_pairs[s + 1] {
            policy[s] = csr.state_pairs[s];
        }
    }
    while let Some(t) = queue.pop_front() {
        for &k in &incoming[t] {
            let s = pair_state[k];
            if !reached[s] {
                // This action moves closer to termination with positive probability.
                reached[s] = true;
                policy[s] = k;
                queue.push_back(s);
            }
        }
    }
    let stuck: Vec<StateId> = (0..n)
        .filter(|&s| !reached[s])
        .map(|s| StateId(s as u32))
        .collect();
    if stuck.is_empty() {
        Ok(policy)
    } else {
        Err(stuck)
    }
}

/// The states from which `policy` does not terminate with probability 1 (empty: proper).
pub fn improper_states(mdp: &TabularMdp, terminating: &[bool], policy: &[usize]) -> Vec<StateId> {
    let n = mdp.n_states();
    let csr = mdp.csr();
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in 0..n {
        let k = policy[s];
        if terminating[s] || k == NO_PAIR {
            continue;
        }
        for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
            incoming[csr.next[j] as usize].push(s);
        }
    }
    let mut reaches = terminating.to_vec();
    let mut queue: VecDeque<usize> = (0..n).filter(|&s| terminating[s]).collect();
    while let Some(t) = queue.pop_front() {
        for &s in &incoming[t] {
            if !reaches[s] {
                reaches[s] = true;
                queue.push_back(s);
            }
        }
    }
    // A state that can reach termination with positive probability from every state it
    // reaches terminates with probability 1; a state that reaches a non-reaching state
    // does not. Propagate "bad" forward: any state with an outcome into a bad state is bad.
    let mut bad: Vec<bool> = reaches.iter().map(|r| !r).collect();
    let mut incoming_all: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in 0..n {
        let k = policy[s];
        if terminating[s] || k == NO_PAIR {
            continue;
        }
        for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
            incoming_all[csr.next[j] as usize].push(s);
        }
    }
    let mut queue: VecDeque<usize> = (0..n).filter(|&s| bad[s]).collect();
    while let Some(t) = queue.pop_front() {
        for &s in &incoming_all[t] {
            if !bad[s] {
                bad[s] = true;
                queue.push_back(s);
            }
        }
    }
    (0..n)
        .filter(|&s| bad[s])
        .map(|s| StateId(s as u32))
        .collect()
}

fn describe(states: &[StateId]) -> String {
    let shown: Vec<String> = states.iter().take(10).map(|s| s.to_string()).collect();
    if states.len() > 10 {
        format!("{} and {} more", shown.join(", "), states.len() - 10)
    } else {
        shown.join(", ")
    }
}

/// Solves the total-reward criterion with policy iteration (`pi`, `auto`) or value iteration
/// (`vi`, `gs`, `mpi` all run value iteration with periodic exact checks).
/// `initial` is an optional starting policy for policy iteration.
pub fn solve_total(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
    initial: Option<&[Option<ActionId>]>,
) -> Result<Solution, SolveError> {
    let mdp = problem.model;
    let terminating = terminating_states(mdp);
    let proper = proper_policy(mdp, &terminating).map_err(|states| SolveError::NoProperPolicy {
        states: describe(&states),
        count: states.len(),
    })?;
    let mut run = TotalRun::new(problem, limits, terminating);
    let use_policy_iteration = matches!(algorithm, Algorithm::Auto | Algorithm::PolicyIteration);
    observer.on_start(&RunInfo {
        algorithm: if use_policy_iteration {
            "policy_iteration"
        } else {
            "value_iteration"
        },
        n_states: mdp.n_states(),
        n_transitions: mdp.n_transitions(),
        tolerance: limits.tolerance,
    });
    let status = if use_policy_iteration {
        let start = match initial {
            None => proper,
            Some(given) => run.repair(given, &proper)?,
        };
        run.policy_iteration(start, observer, interrupt)
    } else {
        run.value_iteration(observer, interrupt)
    };
    Ok(run.finish(status, use_policy_iteration, observer))
}

struct TotalRun<'p, 'a> {
    problem: &'p Problem<'a>,
    limits: &'p Limits,
    terminating: Vec<bool>,
    values: Vec<f64>,
    scratch: Vec<f64>,
    policy: Vec<usize>,
    last: Option<BackupStats>,
    iterations: u64,
    sweeps: u64,
    notes: Vec<String>,
    started: Instant,
}

impl<'p, 'a> TotalRun<'p, 'a> {
    fn new(problem: &'p Problem<'a>, limits: &'p Limits, terminating: Vec<bool>) -> Self {
        let n = problem.model.n_states();
        TotalRun {
            problem,
            limits,
            terminating,
            values: vec![0.0; n],
            scratch: vec![0.0; n],
            policy: vec![NO_PAIR; n],
            last: None,
            iterations: 0,
            sweeps: 0,
            notes: Vec::new(),
            started: Instant::now(),
        }
    }

    /// A user's starting policy as pairs; improper states get the proper policy's action,
    /// which keeps the rest proper (see the module docs).
    fn repair(
        &mut self,
        given: &[Option<ActionId>],
        proper: &[usize],
    ) -> Result<Vec<usize>, SolveError> {
        let mdp = self.problem.model;
        let mut policy = vec![NO_PAIR; mdp.n_states()];
        for (s, choice) in given.iter().enumerate().take(mdp.n_states()) {
            let state = StateId(s as u32);
            policy[s] = match choice {
                Some(a) => mdp
                    .pair_of(state, *a)
                    .ok_or(SolveError::UnavailableAction { state, action: *a })?,
                None => proper[s],
            };
        }
        let improper = improper_states(mdp, &self.terminating, &policy);
        if !improper.is_empty() {
            self.notes.push(format!(
                "the starting policy is improper (never terminates) from states {}: its actions there were replaced by ones that reach a terminal state",
                describe(&improper)
            ));
            for s in &improper {
                policy[s.index()] = proper[s.index()];
            }
        }
        Ok(policy)
    }

    fn tie(&self) -> f64 {
        let magnitude = self.values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        2.0 * q_rounding(
            self.problem.model.max_outcomes(),
            self.problem.max_abs_reward,
            1.0,
            magnitude,
        )
    }

    /// `values ← T values` with the greedy policy (ties keep the current action).
    fn backup(&mut self, keep_ties: bool) -> BackupStats {
        let tie = keep_ties.then(|| self.tie());
        let stats = backup(
            self.problem.model,
            self.problem.sense(),
            1.0,
            &self.values,
            &mut self.scratch,
            &mut self.policy,
            tie,
        );
        std::mem::swap(&mut self.values, &mut self.scratch);
        self.sweeps += 1;
        stats
    }

    fn evaluate(&mut self) {
        let evaluated = as_evaluated(&self.policy, &self.terminating);
        let e = evaluate(self.problem.model, 1.0, &evaluated, &mut self.values);
        self.sweeps += e.sweeps;
    }

    /// The checks every loop makes after an iteration, in the runner's order.
    fn stop_reason(
        &mut self,
        observer: &mut (dyn Observer + Send),
        interrupt: &Interrupt,
        stats: &BackupStats,
        changes: Option<u64>,
    ) -> Option<Status> {
        let control = observer.on_iteration(&Iteration {
            index: self.iterations,
            max_change: stats.residual(),
            policy_gap: None,
            policy_changes: changes,
            elapsed: self.started.elapsed(),
        });
        if control == Control::Stop {
            Some(Status::StoppedByObserver)
        } else if interrupt.is_raised() {
            Some(Status::Interrupted)
        } else if self
            .limits
            .time_limit
            .is_some_and(|t| self.started.elapsed() >= t)
        {
            Some(Status::TimeLimit)
        } else if self
            .limits
            .max_iterations
            .is_some_and(|k| self.iterations >= k)
        {
            Some(Status::IterationLimit)
        } else {
            None
        }
    }

    fn policy_iteration(
        &mut self,
        start: Vec<usize>,
        observer: &mut (dyn Observer + Send),
        interrupt: &Interrupt,
    ) -> Status {
        self.policy = start;
        loop {
            self.evaluate();
            let previous = self.policy.clone();
            let proper_values = self.values.clone();
            let stats = self.backup(true);
            self.iterations += 1;
            let changes = previous
                .iter()
                .zip(&self.policy)
                .filter(|(a, b)| a != b)
                .count() as u64;
            self.last = Some(stats);
            if changes == 0 {
                // A fixed point: report V^π itself, not one more backup of it.
                self.values = proper_values;
                return Status::Converged;
            }
            let improper = improper_states(self.problem.model, &self.terminating, &self.policy);
            if !improper.is_empty() {
                self.notes.push(format!(
                    "the improved policy never terminates from states {} (zero-reward cycles?); stopped at the last proper policy",
                    describe(&improper)
                ));
                self.policy = previous;
                self.values = proper_values;
                return Status::ImproperPolicy;
            }
            if let Some(status) = self.stop_reason(observer, interrupt, &stats, Some(changes)) {
                self.policy = previous;
                self.values = proper_values;
                return status;
            }
        }
    }

    fn value_iteration(
        &mut self,
        observer: &mut (dyn Observer + Send),
        interrupt: &Interrupt,
    ) -> Status {
        const CHECK_EVERY: u64 = 64;
        let mut last_check_residual = f64::INFINITY;
        let mut growing = 0;
        loop {
            let stats = self.backup(false);
            self.iterations += 1;
            self.last = Some(stats);
            if !stats.is_finite() {
                self.notes.push("values overflowed".into());
                return Status::ImproperPolicy;
            }
            let residual = stats.residual();
            if residual <= self.limits.tolerance || self.iterations % CHECK_EVERY == 0 {
                // The greedy policy of the values just backed up from.
                let improper = improper_states(self.problem.model, &self.terminating, &self.policy);
                if improper.is_empty() {
                    // Evaluate the greedy policy exactly: a policy-iteration fixed point ends
                    // the run; otherwise value iteration goes on from the improved values.
                    self.evaluate();
                    let evaluated = self.values.clone();
                    let previous = self.policy.clone();
                    let check = self.backup(true);
                    if previous == self.policy {
                        self.values = evaluated;
                        self.last = Some(check);
                        return Status::Converged;
                    }
                } else if residual >= last_check_residual {
                    growing += 1;
                    if growing >= 3 {
                        self.notes.push(format!(
                            "value iteration's greedy policy never terminates from states {} and the values keep growing: the total reward is unbounded there",
                            describe(&improper)
                        ));
                        return Status::ImproperPolicy;
                    }
                }
                last_check_residual = residual;
            }
            if let Some(status) = self.stop_reason(observer, interrupt, &stats, None) {
                return status;
            }
        }
    }

    fn finish(
        mut self,
        status: Status,
        policy_iteration: bool,
        observer: &mut (dyn Observer + Send),
    ) -> Solution {
        let mdp = self.problem.model;
        let n = mdp.n_states();
        // Residual of the returned values under the returned policy, and the best improvement.
        let evaluated = as_evaluated(&self.policy, &self.terminating);
        let csr = mdp.csr();
        let mut own_residual = 0.0f64;
        let mut improvement = 0.0f64;
        for s in 0..n {
            let k = evaluated[s];
            if k == NO_PAIR {
                continue;
            }
            let own = crate::bellman::pair_q(&csr, k, 1.0, &self.values);
            own_residual = own_residual.max((own - self.values[s]).abs());
            for kk in csr.state_pairs[s]..csr.state_pairs[s + 1] {
                let q = crate::bellman::pair_q(&csr, kk, 1.0, &self.values);
                let gain = match self.problem.sense() {
                    decide_core::Sense::Maximize => q - own,
                    decide_core::Sense::Minimize => own - q,
                };
                improvement = improvement.max(gain);
            }
        }
        let proper = improper_states(mdp, &self.terminating, &self.policy).is_empty();
        let steps = if proper {
            expected_steps(mdp, &evaluated)
        } else {
            None
        };
        let rounding = self.tie();
        let (lower, upper, gap, error) = match (&steps, status) {
            (Some(tau), Status::Converged) => {
                let max_tau = tau.iter().fold(0.0f64, |m, t| m.max(*t));
                let lower = (0..n)
                    .map(|s| self.values[s] - tau[s] * (own_residual + rounding) - rounding)
                    .collect();
                let upper = (0..n)
                    .map(|s| self.values[s] + tau[s] * (own_residual + rounding) + rounding)
                    .collect();
                let gap = max_tau * (improvement + own_residual + rounding) + 2.0 * rounding;
                (
                    lower,
                    upper,
                    gap,
                    max_tau * (own_residual + rounding) + rounding,
                )
            }
            _ => {
                self.notes.push("no certificate: bounds on the total reward need a proper policy at a policy-iteration fixed point".into());
                (
                    vec![f64::NEG_INFINITY; n],
                    vec![f64::INFINITY; n],
                    f64::INFINITY,
                    f64::INFINITY,
                )
            }
        };
        let mut values = self.values.clone();
        let mut lower: Vec<f64> = lower;
        let mut upper: Vec<f64> = upper;
        let mut policy = Vec::with_capacity(n);
        for s in 0..n {
            let id = StateId(s as u32);
            if mdp.is_terminal(id) {
                values[s] = mdp.terminal_value(s);
                lower[s] = values[s];
                upper[s] = values[s];
                policy.push(None);
            } else {
                let k = self.policy[s];
                policy.push((k != NO_PAIR).then(|| mdp.pair_action(k)));
            }
        }
        let report = Report {
            algorithm: if policy_iteration {
                "policy_iteration"
            } else {
                "value_iteration"
            },
            status,
            iterations: self.iterations,
            sweeps: self.sweeps,
            elapsed: self.started.elapsed(),
            certificate: Certificate {
                residual: self.last.map_or(f64::INFINITY, |s| s.residual()),
                policy_gap: gap,
                value_error: error,
                rounding,
            },
            tolerance: self.limits.tolerance,
            criterion: "total",
            notes: self.notes,
        };
        observer.on_finish(&report);
        Solution {
            values,
            policy,
            lower,
            upper,
            report,
            gain: None,
            stages: None,
        }
    }
}
