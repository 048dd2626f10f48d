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
//!    at a policy-iteration fixed point. An improper greedy policy is not by itself a sign of
//!    trouble: with zero-reward cycles (FrozenLake's agent may walk into a wall forever while
//!    the goal is reached with probability 1 by other, equally good actions) ties hide the
//!    proper optimal policy, so a proper policy is looked for among the near-greedy actions
//!    (backward search from the terminating states) and checked exactly. The run reports an
//!    unbounded total reward only with a witness: a closed class of the greedy policy that
//!    never terminates and earns a positive gain (negative when minimising). A fixed point
//!    that no proper policy attains is reported as such, without a certificate.
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
use crate::runner::{Problem, SolveError, stop_requested};
use decide_core::{
    ActionId, Certificate, Interrupt, Iteration, Limits, Observer, Report, RunInfo, Solution,
    StateId, Status, TabularMdp,
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

/// A proper policy that uses only actions whose `q` against `values` is within `slack` of the
/// state's best, or `None` if there is none. A backward breadth-first search from the
/// terminating states: a state is reached through a near-greedy action with an outcome in an
/// already reached state, and takes the best such action; so every state moves closer to
/// termination with positive probability, and the policy terminates with probability 1.
/// Terminating states keep `fallback`'s pair.
fn proper_near_greedy(
    mdp: &TabularMdp,
    sense: decide_core::Sense,
    terminating: &[bool],
    values: &[f64],
    fallback: &[usize],
    slack: f64,
) -> Option<Vec<usize>> {
    let n = mdp.n_states();
    let csr = mdp.csr();
    let sign = match sense {
        decide_core::Sense::Maximize => 1.0,
        decide_core::Sense::Minimize => -1.0,
    };
    // Signed q (larger is better) and whether the pair is near-greedy.
    let mut score = vec![f64::NEG_INFINITY; mdp.n_pairs()];
    let mut near = vec![false; mdp.n_pairs()];
    let mut pair_state = vec![0usize; mdp.n_pairs()];
    for s in 0..n {
        let pairs = csr.state_pairs[s]..csr.state_pairs[s + 1];
        let mut best = f64::NEG_INFINITY;
        for k in pairs.clone() {
            pair_state[k] = s;
            score[k] = sign * crate::bellman::pair_q(&csr, k, 1.0, values);
            best = best.max(score[k]);
        }
        for k in pairs {
            near[k] = score[k] >= best - slack;
        }
    }
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); n];
    for k in (0..near.len()).filter(|&k| near[k]) {
        for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
            incoming[csr.next[j] as usize].push(k);
        }
    }
    let mut policy = fallback.to_vec();
    let mut reached = terminating.to_vec();
    let mut queue: VecDeque<usize> = (0..n).filter(|&s| terminating[s]).collect();
    while let Some(t) = queue.pop_front() {
        for &k in &incoming[t] {
            let s = pair_state[k];
            if reached[s] {
                continue;
            }
            // The best near-greedy pair of `s` with an outcome in a reached state (`k` is one).
            let mut chosen = k;
            for kk in csr.state_pairs[s]..csr.state_pairs[s + 1] {
                if near[kk]
                    && score[kk] > score[chosen]
                    && (csr.pair_outcomes[kk]..csr.pair_outcomes[kk + 1])
                        .any(|j| reached[csr.next[j] as usize])
                {
                    chosen = kk;
                }
            }
            policy[s] = chosen;
            reached[s] = true;
            queue.push_back(s);
        }
    }
    reached.iter().all(|&r| r).then_some(policy)
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
/// (`vi`, with periodic exact checks); other algorithms are refused by
/// [`solve_with`](crate::solve_with).
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
        stop_requested(
            control,
            interrupt,
            &self.limits,
            &self.started,
            self.iterations,
        )
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
                // Without the SSP assumption (zero-reward cycles) the improvement may never
                // terminate. Keep the previous action where it does not: the states that
                // still terminate under the improvement only lead to such states, and the
                // others follow the previous proper policy until they join them, so the
                // mixture is proper; and `T_μ V^π ≥ V^π` (≤ when minimising) makes it no
                // worse anywhere than the previous policy.
                for s in &improper {
                    self.policy[s.index()] = previous[s.index()];
                }
                if self.policy == previous {
                    self.notes.push(format!(
                        "the improved policy never terminates from states {} (zero-reward cycles?); stopped at the last proper policy",
                        describe(&improper)
                    ));
                    self.values = proper_values;
                    return Status::ImproperPolicy;
                }
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
        // The last proper near-greedy policy that failed the fixed-point check (not tried
        // again until it changes).
        let mut last_candidate: Option<Vec<usize>> = None;
        loop {
            let stats = self.backup(false);
            self.iterations += 1;
            self.last = Some(stats);
            if !stats.is_finite() {
                self.notes.push("values overflowed".into());
                return Status::ImproperPolicy;
            }
            let residual = stats.residual();
            let tie = self.tie();
            let rounding_level = residual <= tie;
            if residual <= self.limits.tolerance
                || rounding_level
                || self.iterations.is_multiple_of(CHECK_EVERY)
            {
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
                } else {
                    if let Some(note) = self.unbounded(&improper, residual, last_check_residual) {
                        self.notes.push(note);
                        return Status::ImproperPolicy;
                    }
                    // Ties: with zero-reward cycles (reaching a goal with probability 1, say)
                    // the greedy choice among equally good actions may never terminate. Look
                    // for a proper policy among the near-greedy actions and check it exactly.
                    // Value iteration's last digits may stay off V* by more than the rounding
                    // of one backup (its increments fall below an ulp), so a wider slack is
                    // tried too, at the periodic checks and at the end: a wrong candidate
                    // fails the exact check and costs nothing but the check.
                    let widen = rounding_level || self.iterations.is_multiple_of(CHECK_EVERY);
                    let tried = self.try_proper_near_greedy(
                        2.0 * residual + tie,
                        widen,
                        &mut last_candidate,
                    );
                    if tried == Some(Status::Converged) {
                        return Status::Converged;
                    }
                    if rounding_level {
                        if let Some(candidate) = last_candidate.take() {
                            // Value iteration can do no more; its near-greedy proper policy
                            // is close to optimal: policy iteration finishes from it.
                            self.notes.push(
                                "value iteration's values settled at rounding level with an improper greedy policy (ties); finished by policy iteration from a proper policy among the near-greedy actions".into(),
                            );
                            return self.policy_iteration(candidate, observer, interrupt);
                        }
                        self.notes.push(format!(
                            "value iteration reached its fixed point up to rounding (residual {residual:.2e}), but no policy attaining these values terminates from states {}: the optimum there is approached only by never terminating (zero-reward cycles)",
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

    /// Whether the greedy policy (of the values before the last backup, now in `scratch`)
    /// proves the total reward unbounded: a closed class that never terminates and whose gain
    /// is positive (negative when minimising). The proof is `g ≥ min_C (T_π V − V)` on the
    /// class (its stationary distribution averages `T_π V − V` to `g`); a class whose
    /// estimated gain is clearly positive while the residual no longer shrinks is reported
    /// too (periodic classes, where `T_π V − V` alternates in sign).
    fn unbounded(
        &self,
        improper: &[StateId],
        residual: f64,
        last_check_residual: f64,
    ) -> Option<String> {
        let mdp = self.problem.model;
        let sign = match self.problem.sense() {
            decide_core::Sense::Maximize => 1.0,
            decide_core::Sense::Minimize => -1.0,
        };
        let tie = self.tie();
        let threshold = 1e-9 * self.problem.max_abs_reward.max(f64::MIN_POSITIVE);
        for class in crate::average::closed_classes(mdp, &self.policy) {
            if class.iter().any(|&s| self.terminating[s]) {
                continue;
            }
            let proven = class
                .iter()
                .all(|&s| sign * (self.values[s] - self.scratch[s]) > tie);
            // The power iteration of the estimate costs more than a sweep: only when the
            // residual has stopped shrinking.
            let stalled = residual >= last_check_residual;
            if !proven && !stalled {
                continue;
            }
            let gain = crate::average::class_gain(mdp, &self.policy, &class);
            let estimated = sign * gain > threshold;
            if proven || estimated {
                let mut members: Vec<StateId> = class.iter().map(|&s| StateId(s as u32)).collect();
                members.sort();
                return Some(format!(
                    "the total reward is unbounded: value iteration's greedy policy never terminates from states {} and cycles through states {} earning {gain:.6e} per step there, so the values grow without bound",
                    describe(improper),
                    describe(&members)
                ));
            }
        }
        None
    }

    /// Looks for a proper policy among the actions whose `q` is within `slack` of the best
    /// (`widen`: ten times wider, and so on, while none is found), evaluates it exactly and ends the run (converged) if it is a policy-iteration fixed
    /// point; otherwise value iteration goes on from its own values.
    fn try_proper_near_greedy(
        &mut self,
        slack: f64,
        widen: bool,
        last_candidate: &mut Option<Vec<usize>>,
    ) -> Option<Status> {
        // The widest slack tried: the tolerance, or a millionth of the values' scale.
        let magnitude = self.scratch.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        let widest = self
            .limits
            .tolerance
            .max(1e-6 * magnitude.max(self.problem.max_abs_reward));
        let mut slack = slack;
        let candidate = loop {
            let found = proper_near_greedy(
                self.problem.model,
                self.problem.sense(),
                &self.terminating,
                &self.scratch,
                &self.policy,
                slack,
            );
            match found {
                Some(policy) => break policy,
                None if widen && slack < widest => slack = (slack * 10.0).min(widest),
                None => return None,
            }
        };
        if last_candidate.as_ref() == Some(&candidate) {
            return None;
        }
        let (saved_values, saved_policy, saved_last) =
            (self.values.clone(), self.policy.clone(), self.last);
        self.policy = candidate.clone();
        self.evaluate();
        let evaluated = self.values.clone();
        // Accepted at a policy-iteration fixed point, or when the certificate `finish` gives
        // it is within the tolerance (the exact evaluation of a policy that takes long to
        // terminate carries rounding that can hide a fixed point).
        let gap = self.certified_gap();
        let check = self.backup(true);
        if self.policy == candidate || gap.is_some_and(|g| g <= self.limits.tolerance) {
            self.policy = candidate;
            self.values = evaluated;
            self.last = Some(check);
            return Some(Status::Converged);
        }
        self.values = saved_values;
        self.policy = saved_policy;
        self.last = saved_last;
        *last_candidate = Some(candidate);
        None
    }

    /// The residual of the values under the current policy (`|T_π V − V|`), and the largest
    /// improvement any action offers over the policy's own (in the sense's direction).
    fn residual_and_improvement(&self) -> (f64, f64) {
        let mdp = self.problem.model;
        let evaluated = as_evaluated(&self.policy, &self.terminating);
        let csr = mdp.csr();
        let mut own_residual = 0.0f64;
        let mut improvement = 0.0f64;
        for s in 0..mdp.n_states() {
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
        (own_residual, improvement)
    }

    /// The policy gap [`finish`](Self::finish) certifies for the current (proper) policy and
    /// its evaluated values, or `None` for an improper policy.
    fn certified_gap(&self) -> Option<f64> {
        let evaluated = as_evaluated(&self.policy, &self.terminating);
        let tau = expected_steps(self.problem.model, &evaluated)?;
        let max_tau = tau.iter().fold(0.0f64, |m, t| m.max(*t));
        let (own_residual, improvement) = self.residual_and_improvement();
        let rounding = self.tie();
        Some(max_tau * (improvement + own_residual + rounding) + 2.0 * rounding)
    }

    fn finish(
        mut self,
        status: Status,
        policy_iteration: bool,
        observer: &mut (dyn Observer + Send),
    ) -> Solution {
        let mdp = self.problem.model;
        let n = mdp.n_states();
        let evaluated = as_evaluated(&self.policy, &self.terminating);
        let (own_residual, improvement) = self.residual_and_improvement();
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
