//! Average reward per step: relative value iteration and policy iteration (unichain models).
//!
//! For any bias vector `h`, the optimal gain satisfies Odoni's bounds
//! `min_s (T h − h)(s) ≤ g* ≤ max_s (T h − h)(s)` whenever `g*` is the same in every state
//! (unichain or weakly communicating models; Puterman 1994, Thm 8.5.5 / §8.5.5), where `T` is
//! the undiscounted Bellman operator. Relative value iteration iterates the aperiodicity
//! transform `h ← h + τ(T h − h)` (τ = 1/2, which keeps the gain and fixes periodic chains,
//! Puterman §8.5.4), renormalised so that `h(ref) = 0`, and stops when the bounds are within
//! the tolerance. Policy iteration (Howard) solves `g + h = r_π + P_π h`, `h(ref) = 0`, exactly.
//!
//! Terminal states are treated as absorbing with reward 0. When the returned policy's chain
//! has several closed classes with different gains, the model is multichain for it: the run
//! says so (status `multichain`) with the classes' gains, instead of returning a single number
//! that is wrong somewhere.

use crate::Algorithm;
use crate::bellman::{NO_PAIR, best_pair};
use crate::certificate::q_rounding;
use crate::runner::{Problem, SolveError, stop_requested};
use decide_core::{
    Certificate, Gain, Interrupt, Iteration, Limits, Observer, Report, RunInfo, Sense, Solution,
    StateId, Status, TabularMdp,
};
use faer::Mat;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, Triplet};
use rayon::prelude::*;
use std::time::Instant;

/// The aperiodicity transform's weight.
const TAU: f64 = 0.5;
/// The reference state whose bias is 0.
const REFERENCE: usize = 0;

/// `out = T h` (undiscounted; terminal states: `h(s)`, an absorbing zero-reward loop), the
/// greedy pairs, and `(min, max)` of `T h − h`.
fn average_backup(
    mdp: &TabularMdp,
    sense: Sense,
    h: &[f64],
    out: &mut [f64],
    policy: &mut [usize],
    keep_ties: Option<f64>,
) -> (f64, f64) {
    let csr = mdp.csr();
    out.par_iter_mut()
        .zip(policy.par_iter_mut())
        .enumerate()
        .map(|(s, (o, p))| {
            let (keep, tie) = keep_ties.map_or((NO_PAIR, 0.0), |t| (*p, t));
            let (q, k) = if csr.state_pairs[s] == csr.state_pairs[s + 1] {
                (h[s], NO_PAIR)
            } else {
                best_pair(&csr, s, sense, 1.0, h, keep, tie)
            };
            *o = q;
            *p = k;
            (q - h[s], q - h[s])
        })
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY),
            |a, b| (a.0.min(b.0), a.1.max(b.1)),
        )
}

/// Solves the average-reward criterion: policy iteration for `pi` (and `auto` up to the
/// direct-solve size), relative value iteration otherwise.
pub fn solve_average(
    problem: &Problem<'_>,
    algorithm: Algorithm,
    limits: &Limits,
    observer: &mut (dyn Observer + Send),
    interrupt: &Interrupt,
) -> Result<Solution, SolveError> {
    let mdp = problem.model;
    let use_pi = match algorithm.resolve(mdp) {
        Algorithm::PolicyIteration => true,
        // `auto` beyond the direct-solve size resolves to `mpi`: relative value iteration.
        Algorithm::ValueIteration | Algorithm::ModifiedPolicyIteration => false,
        Algorithm::Auto => false,
        // Refused by `solve_with` before it gets here.
        Algorithm::GaussSeidel | Algorithm::LinearProgramming { .. } => false,
    };
    let name = if use_pi {
        "policy_iteration"
    } else {
        "relative_value_iteration"
    };
    observer.on_start(&RunInfo {
        algorithm: name,
        n_states: mdp.n_states(),
        n_transitions: mdp.n_transitions(),
        tolerance: limits.tolerance,
    });
    let started = Instant::now();
    let n = mdp.n_states();
    let sense = problem.sense();
    let mut h = vec![0.0; n];
    let mut w = vec![0.0; n];
    let mut policy = vec![NO_PAIR; n];
    let mut iterations = 0u64;
    let mut notes = Vec::new();
    let tie = |h: &[f64]| {
        let m = h.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        2.0 * q_rounding(mdp.max_outcomes(), problem.max_abs_reward, 1.0, m)
    };
    let mut bounds = (f64::NEG_INFINITY, f64::INFINITY);
    let mut status = Status::Converged;
    let mut use_rvi = !use_pi;
    if use_pi {
        // Start greedy for h = 0 (the one-step reward).
        average_backup(mdp, sense, &h, &mut w, &mut policy, None);
        loop {
            iterations += 1;
            if evaluate_unichain(mdp, &policy, &mut h).is_none() {
                // Several recurrent classes: Howard's unichain evaluation does not apply.
                // Relative value iteration goes on from here and the classes are checked.
                notes.push(format!(
                    "policy {iterations} of policy iteration has several recurrent classes; continued with relative value iteration"
                ));
                use_rvi = true;
                break;
            }
            let previous = policy.clone();
            bounds = average_backup(mdp, sense, &h, &mut w, &mut policy, Some(tie(&h)));
            let changes = previous.iter().zip(&policy).filter(|(a, b)| a != b).count() as u64;
            let control = observer.on_iteration(&Iteration {
                index: iterations,
                max_change: bounds.1 - bounds.0,
                policy_gap: Some(bounds.1 - bounds.0),
                policy_changes: Some(changes),
                elapsed: started.elapsed(),
            });
            if changes == 0 {
                status = Status::Converged;
                break;
            }
            if let Some(s) = stop_requested(control, interrupt, limits, &started, iterations) {
                status = s;
                break;
            }
        }
    }
    if use_rvi {
        let mut checked_at = iterations;
        loop {
            iterations += 1;
            bounds = average_backup(mdp, sense, &h, &mut w, &mut policy, None);
            let gap = bounds.1 - bounds.0;
            let control = observer.on_iteration(&Iteration {
                index: iterations,
                max_change: gap,
                policy_gap: Some(gap),
                policy_changes: None,
                elapsed: started.elapsed(),
            });
            if !gap.is_finite() {
                return Err(SolveError::NonFinite { iterations });
            }
            if gap <= limits.tolerance {
                status = Status::Converged;
                break;
            }
            // What is left of the bracket is rounding: more iterations cannot shrink it. The
            // computed `T h − h` carries an error of at most `δ + 2u|h|` per state (one `q`
            // and one subtraction), well inside `tie(h) = 2δ`, so a bracket of two ties is
            // rounding only (as `precision_limit` in the discounted runner).
            if gap <= 2.0 * tie(&h) {
                status = Status::PrecisionLimit;
                break;
            }
            if let Some(s) = stop_requested(control, interrupt, limits, &started, iterations) {
                status = s;
                break;
            }
            // h ← h + τ(Th − h), relative to the reference state.
            let shift = h[REFERENCE] + TAU * (w[REFERENCE] - h[REFERENCE]);
            h.par_iter_mut()
                .zip(&w)
                .for_each(|(x, &t)| *x = *x + TAU * (t - *x) - shift);
            // A multichain model keeps the bounds apart forever: look at the chain's classes.
            if iterations >= checked_at + 1000 {
                checked_at = iterations;
                let classes = closed_class_gains(mdp, &policy);
                if differs(&classes, limits.tolerance.max(1e-9)) {
                    status = Status::Multichain;
                    break;
                }
            }
        }
    }
    let classes = closed_class_gains(mdp, &policy);
    if differs(&classes, limits.tolerance.max(1e-9)) {
        status = Status::Multichain;
    }
    if status == Status::Multichain {
        let listed: Vec<String> = classes
            .iter()
            .take(6)
            .map(|(first, g)| format!("class of {} has gain {g}", StateId(*first as u32)))
            .collect();
        notes.push(format!(
            "multichain: the gain is not the same in every state ({}); use --criterion discounted or total",
            listed.join("; ")
        ));
    }
    let (min_d, max_d) = bounds;
    let rounding = tie(&h);
    let gain = Gain {
        value: (min_d + max_d) / 2.0,
        lower: min_d - rounding,
        upper: max_d + rounding,
    };
    // The bias is reported relative to the reference state; per-state bounds on it are not
    // available from these iterations, so lower/upper are left open.
    let mut values = h.clone();
    let offset = values[REFERENCE];
    values.iter_mut().for_each(|v| *v -= offset);
    let policy_out = policy
        .iter()
        .map(|&k| (k != NO_PAIR).then(|| mdp.pair_action(k)))
        .collect();
    let report = Report {
        algorithm: name,
        status,
        iterations,
        sweeps: iterations,
        elapsed: started.elapsed(),
        certificate: Certificate {
            residual: min_d.abs().max(max_d.abs()),
            policy_gap: gain.upper - gain.lower,
            value_error: f64::INFINITY,
            rounding,
        },
        tolerance: limits.tolerance,
        criterion: "average",
        notes,
    };
    observer.on_finish(&report);
    Ok(Solution {
        values,
        policy: policy_out,
        lower: vec![f64::NEG_INFINITY; n],
        upper: vec![f64::INFINITY; n],
        report,
        gain: Some(gain),
        stages: None,
    })
}

fn differs(classes: &[(usize, f64)], tolerance: f64) -> bool {
    let (lo, hi) = classes
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (_, g)| {
            (a.min(*g), b.max(*g))
        });
    classes.len() > 1 && hi - lo > tolerance
}

/// Solves `g + h(s) − Σ p h(s') = r(s)` with `h(ref) = 0` into `h` (and returns `g`), or
/// `None` when the system is singular (several recurrent classes).
fn evaluate_unichain(mdp: &TabularMdp, policy: &[usize], h: &mut [f64]) -> Option<f64> {
    let n = mdp.n_states();
    let csr = mdp.csr();
    let mut triplets = Vec::with_capacity(mdp.n_transitions() + 2 * n);
    let mut rhs = vec![0.0; n];
    for s in 0..n {
        // Column REFERENCE holds g (h(ref) = 0 is not an unknown).
        triplets.push(Triplet::new(s, REFERENCE, 1.0));
        if s != REFERENCE {
            triplets.push(Triplet::new(s, s, 1.0));
        }
        let k = policy[s];
        if k == NO_PAIR {
            // Absorbing with reward 0: g + h(s) − h(s) = 0.
            if s != REFERENCE {
                triplets.push(Triplet::new(s, s, -1.0));
            }
            continue;
        }
        rhs[s] = csr.pair_reward[k];
        for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
            let next = csr.next[j] as usize;
            if next != REFERENCE {
                triplets.push(Triplet::new(s, next, -csr.probability.at(j)));
            }
        }
    }
    let merged = merge_triplets(triplets);
    let a = SparseColMat::<usize, f64>::try_new_from_triplets(n, n, &merged).ok()?;
    let lu = a.sp_lu().ok()?;
    let mut x = Mat::<f64>::from_fn(n, 1, |i, _| rhs[i]);
    lu.solve_in_place(x.as_mut());
    let g = x[(REFERENCE, 0)];
    if !(g.is_finite() && (0..n).all(|i| x[(i, 0)].is_finite())) {
        return None;
    }
    // A singular system can still "solve" to huge numbers: check the residual.
    let mut lhs = vec![0.0; n];
    for t in &merged {
        lhs[t.row] += t.val * x[(t.col, 0)];
    }
    let worst = lhs
        .iter()
        .zip(&rhs)
        .fold(0.0f64, |m, (l, r)| m.max((l - r).abs()));
    let scale = rhs.iter().fold(1.0f64, |m, r| m.max(r.abs()));
    if worst > 1e-6 * scale {
        return None;
    }
    for s in 0..n {
        h[s] = if s == REFERENCE { 0.0 } else { x[(s, 0)] };
    }
    Some(g)
}

/// Sums duplicate (row, col) entries, sorted by column then row.
fn merge_triplets(mut t: Vec<Triplet<usize, usize, f64>>) -> Vec<Triplet<usize, usize, f64>> {
    t.sort_by_key(|e| (e.col, e.row));
    let mut out: Vec<Triplet<usize, usize, f64>> = Vec::with_capacity(t.len());
    for e in t {
        match out.last_mut() {
            Some(last) if last.row == e.row && last.col == e.col => last.val += e.val,
            _ => out.push(e),
        }
    }
    out
}

/// The closed classes (recurrent classes) of the policy's chain and the gain of each:
/// `(smallest state of the class, gain)`. Terminal states are absorbing with reward 0.
pub fn closed_class_gains(mdp: &TabularMdp, policy: &[usize]) -> Vec<(usize, f64)> {
    closed_classes(mdp, policy)
        .iter()
        .map(|members| {
            (
                *members.iter().min().unwrap_or(&0),
                class_gain(mdp, policy, members),
            )
        })
        .collect()
}

/// The successors of `s` under `policy` ([`NO_PAIR`]: an absorbing state).
fn policy_successors(mdp: &TabularMdp, policy: &[usize], s: usize) -> Vec<usize> {
    let csr = mdp.csr();
    let k = policy[s];
    if k == NO_PAIR {
        vec![s]
    } else {
        (csr.pair_outcomes[k]..csr.pair_outcomes[k + 1])
            .map(|j| csr.next[j] as usize)
            .collect()
    }
}

/// The gains of a policy that may be multichain: its closed classes (states, sorted, and
/// gain) and every state's gain, `g(s) = Σ_C P(the chain from s ends in C) · g_C`. `policy` is
/// an action per state as in [`Solution::policy`] (`None`: absorbing with reward 0, like a
/// terminal state under the average criterion). Transient states by Gauss–Seidel sweeps of
/// `g = P g` until they stop changing (at most 100 000 sweeps).
pub fn policy_gains(
    mdp: &TabularMdp,
    policy: &[Option<decide_core::ActionId>],
) -> (Vec<(Vec<usize>, f64)>, Vec<f64>) {
    let n = mdp.n_states();
    let pairs: Vec<usize> = (0..n)
        .map(|s| {
            policy
                .get(s)
                .copied()
                .flatten()
                .and_then(|a| mdp.pair_of(StateId(s as u32), a))
                .unwrap_or(NO_PAIR)
        })
        .collect();
    let mut classes: Vec<(Vec<usize>, f64)> = closed_classes(mdp, &pairs)
        .into_iter()
        .map(|mut members| {
            members.sort_unstable();
            let g = class_gain(mdp, &pairs, &members);
            (members, g)
        })
        .collect();
    classes.sort_by_key(|(members, _)| members[0]);
    let mut gain = vec![0.0; n];
    let mut fixed = vec![false; n];
    for (members, g) in &classes {
        for &s in members {
            gain[s] = *g;
            fixed[s] = true;
        }
    }
    let csr = mdp.csr();
    for _ in 0..100_000 {
        let mut change = 0.0f64;
        for s in (0..n).filter(|&s| !fixed[s]) {
            let k = pairs[s];
            let new: f64 = (csr.pair_outcomes[k]..csr.pair_outcomes[k + 1])
                .map(|j| csr.probability.at(j) * gain[csr.next[j] as usize])
                .sum();
            change = change.max((new - gain[s]).abs());
            gain[s] = new;
        }
        if change <= 1e-15 * gain.iter().fold(1.0f64, |m, g| m.max(g.abs())) {
            break;
        }
    }
    (classes, gain)
}

/// The closed classes (recurrent classes) of the policy's chain, each as its states.
/// [`NO_PAIR`] states are absorbing.
pub fn closed_classes(mdp: &TabularMdp, policy: &[usize]) -> Vec<Vec<usize>> {
    let n = mdp.n_states();
    let successors = |s: usize| policy_successors(mdp, policy, s);
    let components = strongly_connected(n, &successors);
    let mut component_of = vec![0usize; n];
    for (c, members) in components.iter().enumerate() {
        for &s in members {
            component_of[s] = c;
        }
    }
    components
        .into_iter()
        .enumerate()
        .filter(|(c, members)| {
            members
                .iter()
                .all(|&s| successors(s).iter().all(|&t| component_of[t] == *c))
        })
        .map(|(_, members)| members)
        .collect()
}

/// The gain (reward per step) of one closed class of the policy's chain, from its stationary
/// distribution by power iteration on `(I + P)/2` (aperiodic). [`NO_PAIR`] states earn 0.
pub fn class_gain(mdp: &TabularMdp, policy: &[usize], members: &[usize]) -> f64 {
    let csr = mdp.csr();
    let index: std::collections::HashMap<usize, usize> =
        members.iter().enumerate().map(|(i, &s)| (s, i)).collect();
    let m = members.len();
    let mut mu = vec![1.0 / m as f64; m];
    for _ in 0..100_000 {
        let mut next = vec![0.0; m];
        for (i, &s) in members.iter().enumerate() {
            next[i] += 0.5 * mu[i];
            let k = policy[s];
            if k == NO_PAIR {
                next[i] += 0.5 * mu[i];
                continue;
            }
            for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                next[index[&(csr.next[j] as usize)]] += 0.5 * mu[i] * csr.probability.at(j);
            }
        }
        let change = next
            .iter()
            .zip(&mu)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        mu = next;
        if change < 1e-15 {
            break;
        }
    }
    members
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            if policy[s] == NO_PAIR {
                0.0
            } else {
                mu[i] * csr.pair_reward[policy[s]]
            }
        })
        .sum()
}

/// Tarjan's strongly connected components, iterative (no recursion depth limit).
fn strongly_connected(n: usize, successors: &dyn Fn(usize) -> Vec<usize>) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut call: Vec<(usize, Vec<usize>, usize)> = vec![(root, successors(root), 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, succ, i)) = call.last_mut() {
            if *i < succ.len() {
                let w = succ[*i];
                *i += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    let s = successors(w);
                    call.push((w, s, 0));
                } else if on_stack[w] {
                    low[*v] = low[*v].min(index[w]);
                }
            } else {
                let v = *v;
                call.pop();
                if let Some((parent, _, _)) = call.last() {
                    low[*parent] = low[*parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    components.push(component);
                }
            }
        }
    }
    components
}
