//! Linear programming through HiGHS: the primal LP over values and the dual LP over
//! occupancy measures (discounted criterion).
//!
//! Let `A` be the matrix with one row per available pair `k = (s,a)` and one column per
//! non-terminal state: `A[k,s] = 1`, `A[k,s'] −= γ p(s'|s,a)`; and `b_k = r(s,a) + γ Σ p(s'|s,a)
//! t(s')` over terminal `s'` with fixed value `t(s')` (terminal states are substituted out).
//! With weights `α > 0` on the non-terminal states (here **uniform, `α_s = 1/m`** for `m`
//! non-terminal states: the initial distribution "a uniformly random start"),
//!
//! ```text
//! primal (maximise reward):  minimise Σ_s α_s v_s   s.t.  (A v)_k ≥ b_k   for every pair k
//! dual:                      maximise Σ_k b_k x_k   s.t.  Aᵀx = α,  x ≥ 0
//! ```
//!
//! (for costs, the inequalities flip and max/min swap). The primal's optimum is `V*` in every
//! state because every `α_s > 0`; the dual's optimum is the **occupancy measure**
//! `x(s,a) = Σ_t γ^t Pr(s_t = s, a_t = a)` of an optimal policy started from `α`, which is where
//! constrained MDPs add their budget rows. Each formulation's LP duals are the other's
//! variables, so both give values and occupancy; the policy is `argmax_a x(s,a)`.
//!
//! HiGHS runs its interior-point method (`solver = ipm`, about 20× faster than its simplex on
//! MDP LPs, `shared/deps.md`) with crossover on, so the answer is a vertex: the values of one
//! deterministic policy. Its tolerances are set to their tightest (`1e-10`) and presolve is
//! off (MDP LPs do not reduce, and it slowed the dual LP down eightfold). HiGHS prints
//! nothing (`output_flag = false`) and is left to choose its own threads (setting `threads`
//! after HiGHS has started fails), so `Limits::threads` only governs decide's own backup.
//! The run's time limit is passed to HiGHS; an interrupt is seen only after the LP returns.
//!
//! The answer carries decide's certificate like every other method: [`LinearProgramming`] is
//! a [`Solver`] whose one step solves the LP, evaluates the LP's policy exactly (its vertex:
//! HiGHS's own numbers are accurate to about 1e-8 only), and does one Bellman backup of those
//! values, from which the runner derives the bounds. Without the `lp` cargo feature the
//! solver returns [`SolveError::LinearProgrammingUnavailable`].

use super::Iterate;
use crate::bellman::NO_PAIR;
use crate::certificate::BackupStats;
use crate::evaluate::evaluate;
use crate::runner::{Current, Problem, SolveError, Solver, Sweep};
use decide_core::Limits;
use decide_core::large_array::LargeArray;
use std::fmt;
use std::time::{Duration, Instant};

/// Which linear program is solved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Formulation {
    /// Over values: one variable per state, one constraint per (state, action).
    #[default]
    Primal,
    /// Over occupancy measures: one variable per (state, action), one constraint per state.
    Dual,
}

impl Formulation {
    /// `"primal"` or `"dual"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Formulation::Primal => "primal",
            Formulation::Dual => "dual",
        }
    }
}

impl fmt::Display for Formulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What HiGHS did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LpIterations {
    /// Interior-point iterations.
    pub ipm: i64,
    /// Crossover iterations.
    pub crossover: i64,
    /// Simplex iterations (clean-up after crossover).
    pub simplex: i64,
}

/// The answer of one linear program.
#[derive(Clone, Debug, PartialEq)]
pub struct LpSolution {
    /// Which LP was solved.
    pub formulation: Formulation,
    /// `true` when HiGHS proved optimality; otherwise (time limit) the values are HiGHS's
    /// last iterate, or 0.
    pub optimal: bool,
    /// Values by state as HiGHS returns them (accurate to about 1e-8 at discount 0.99);
    /// terminal states have their fixed value.
    pub values: Vec<f64>,
    /// Occupancy measure by pair index (see [`TabularMdp::csr`](decide_core::TabularMdp::csr)):
    /// the expected discounted number of times each pair is used, started from `initial`.
    pub occupancy: Vec<f64>,
    /// Per state, the pair with the largest occupancy ([`NO_PAIR`] for terminal states).
    pub policy: Vec<usize>,
    /// The initial distribution used (by state; 0 on terminal states).
    pub initial: Vec<f64>,
    /// The LP's optimal objective: `Σ α_s V(s) = Σ r(s,a) x(s,a)` (plus the terminal part).
    pub objective: f64,
    /// HiGHS's iteration counts.
    pub iterations: LpIterations,
    /// HiGHS's model status, in words.
    pub status: String,
}

/// The uniform initial distribution over non-terminal states (`1/m` each).
pub fn uniform_initial(problem: &Problem<'_>) -> Vec<f64> {
    let mdp = problem.model;
    let csr = mdp.csr();
    let m = (0..mdp.n_states())
        .filter(|&s| csr.state_pairs[s] < csr.state_pairs[s + 1])
        .count();
    (0..mdp.n_states())
        .map(|s| {
            if csr.state_pairs[s] < csr.state_pairs[s + 1] {
                1.0 / m as f64
            } else {
                0.0
            }
        })
        .collect()
}

/// Solves the discounted problem by the chosen LP, with the uniform initial distribution.
pub fn solve_lp(problem: &Problem<'_>, formulation: Formulation) -> Result<LpSolution, SolveError> {
    solve_lp_from(problem, formulation, &uniform_initial(problem), None)
}

/// Solves the discounted problem by the chosen LP with initial distribution `initial` (by
/// state; must be non-negative; entries of terminal states are ignored) and an optional time
/// limit. Values are `V*` only where `initial` reaches: give every state a positive weight
/// for `V*` everywhere.
pub fn solve_lp_from(
    problem: &Problem<'_>,
    formulation: Formulation,
    initial: &[f64],
    time_limit: Option<Duration>,
) -> Result<LpSolution, SolveError> {
    if !matches!(
        problem.objective.criterion,
        decide_core::Criterion::Discounted { .. }
    ) {
        return Err(SolveError::UnsupportedCriterion {
            algorithm: "linear_programming",
            criterion: problem.objective.criterion.as_str(),
        });
    }
    assert_eq!(
        initial.len(),
        problem.model.n_states(),
        "one initial weight per state"
    );
    highs_lp::solve(problem, formulation, initial, time_limit)
}

/// Linear programming as a [`Solver`]: one step solves the LP (HiGHS), evaluates the LP's
/// policy exactly and backs those values up once, which certifies them. The step is `exact`
/// when HiGHS proved optimality; the certificate says how good the answer is either way.
/// See the [module documentation](self).
#[derive(Clone, Debug, Default)]
pub struct LinearProgramming {
    formulation: Formulation,
    iterate: Iterate,
    deadline: Option<Instant>,
    solution: Option<LpSolution>,
}

impl LinearProgramming {
    /// A solver for the given formulation.
    pub fn new(formulation: Formulation) -> Self {
        LinearProgramming {
            formulation,
            ..Self::default()
        }
    }

    /// The formulation solved.
    pub fn formulation(&self) -> Formulation {
        self.formulation
    }

    /// The last LP's answer (values, occupancy measure, policy), after a step.
    pub fn solution(&self) -> Option<&LpSolution> {
        self.solution.as_ref()
    }
}

impl Solver for LinearProgramming {
    fn name(&self) -> &'static str {
        match self.formulation {
            Formulation::Primal => "linear_programming",
            Formulation::Dual => "linear_programming_dual",
        }
    }

    fn start(&mut self, problem: &Problem<'_>, limits: &Limits) -> Result<(), SolveError> {
        if !cfg!(feature = "lp") {
            return Err(SolveError::LinearProgrammingUnavailable);
        }
        self.iterate = Iterate::new(problem.model.n_states());
        self.deadline = limits.time_limit.map(|t| Instant::now() + t);
        self.solution = None;
        Ok(())
    }

    fn step(&mut self, problem: &Problem<'_>) -> Result<Sweep, SolveError> {
        let remaining = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()));
        let lp = solve_lp_from(
            problem,
            self.formulation,
            &uniform_initial(problem),
            remaining,
        )?;
        // The LP's vertex is the value of its policy; HiGHS computes it to about 1e-8 only
        // (random_N2000: 1.4e-8 from the interior point + crossover, 1e-9 from the simplex),
        // so it is recomputed here by decide's exact evaluation, from the LP's values.
        self.iterate.values = LargeArray::from_slice(&lp.values);
        self.iterate.policy.clone_from(&lp.policy);
        let evaluation = evaluate(
            problem.model,
            problem.discount(),
            &self.iterate.policy,
            &mut self.iterate.values,
        );
        // The LP's policy wins ties that rounding cannot separate.
        let stats = self.iterate.backup(problem, true);
        let changes = lp
            .policy
            .iter()
            .zip(&self.iterate.policy)
            .filter(|(a, b)| a != b)
            .count() as u64;
        let optimal = lp.optimal;
        self.solution = Some(lp);
        Ok(Sweep {
            stats: Some(stats),
            exact: optimal,
            max_change: stats.residual(),
            sweeps: 1 + evaluation.sweeps,
            policy_changes: Some(changes),
        })
    }

    fn certify(&mut self, problem: &Problem<'_>) -> BackupStats {
        self.iterate.backup(problem, true)
    }

    fn current(&self) -> Current<'_> {
        self.iterate.current()
    }
}

/// The LP data shared by both formulations: non-terminal states renumbered `0..m`, and `A`
/// by pair rows.
#[cfg_attr(not(feature = "lp"), allow(dead_code))]
struct LpData {
    /// The non-terminal states, in order (state `states[c]` is column `c` of `A`).
    states: Vec<usize>,
    /// `A` in compressed rows: `start[k]..start[k+1]` into `column`/`value`.
    start: Vec<usize>,
    column: Vec<usize>,
    value: Vec<f64>,
    /// `b_k`.
    rhs: Vec<f64>,
}

#[cfg_attr(not(feature = "lp"), allow(dead_code))]
impl LpData {
    fn new(problem: &Problem<'_>) -> Self {
        let mdp = problem.model;
        let csr = mdp.csr();
        let gamma = problem.discount();
        let n = mdp.n_states();
        let mut index = vec![None; n];
        let mut states = Vec::new();
        for (s, slot) in index.iter_mut().enumerate() {
            if csr.state_pairs[s] < csr.state_pairs[s + 1] {
                *slot = Some(states.len());
                states.push(s);
            }
        }
        let n_pairs = mdp.n_pairs();
        let mut start = Vec::with_capacity(n_pairs + 1);
        let mut column = Vec::with_capacity(mdp.n_transitions() + n_pairs);
        let mut value = Vec::with_capacity(mdp.n_transitions() + n_pairs);
        let mut rhs = Vec::with_capacity(n_pairs);
        start.push(0);
        for &s in &states {
            let own = index[s].expect("non-terminal");
            for k in csr.state_pairs[s]..csr.state_pairs[s + 1] {
                let mut b = csr.pair_reward[k];
                let mut diagonal = 1.0;
                let first = column.len();
                column.push(own);
                value.push(0.0); // the diagonal, filled below
                for j in csr.pair_outcomes[k]..csr.pair_outcomes[k + 1] {
                    let next = csr.next[j] as usize;
                    let p = csr.probability.at(j);
                    match index[next] {
                        None => b += gamma * p * csr.terminal_value(next),
                        // Outcomes of a pair are merged by the builder: at most one self-loop.
                        Some(c) if c == own => diagonal -= gamma * p,
                        Some(c) => {
                            column.push(c);
                            value.push(-gamma * p);
                        }
                    }
                }
                value[first] = diagonal;
                start.push(column.len());
                rhs.push(b);
            }
        }
        LpData {
            states,
            start,
            column,
            value,
            rhs,
        }
    }

    fn n_rows(&self) -> usize {
        self.rhs.len()
    }

    /// `Aᵀ` in compressed rows (by state): `(start, pair, value)`.
    fn transpose(&self) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
        let m = self.states.len();
        let mut count = vec![0usize; m + 1];
        for &c in &self.column {
            count[c + 1] += 1;
        }
        for i in 0..m {
            count[i + 1] += count[i];
        }
        let start = count.clone();
        let mut fill = count;
        let mut pair = vec![0usize; self.column.len()];
        let mut value = vec![0.0; self.column.len()];
        for k in 0..self.n_rows() {
            for j in self.start[k]..self.start[k + 1] {
                let c = self.column[j];
                pair[fill[c]] = k;
                value[fill[c]] = self.value[j];
                fill[c] += 1;
            }
        }
        (start, pair, value)
    }
}

/// Per state, the pair with the largest occupancy (first on ties).
#[cfg_attr(not(feature = "lp"), allow(dead_code))]
fn occupancy_policy(problem: &Problem<'_>, occupancy: &[f64]) -> Vec<usize> {
    let csr = problem.model.csr();
    (0..problem.model.n_states())
        .map(|s| {
            let pairs = csr.state_pairs[s]..csr.state_pairs[s + 1];
            if pairs.is_empty() {
                return NO_PAIR;
            }
            let mut best = pairs.start;
            for k in pairs {
                if occupancy[k] > occupancy[best] {
                    best = k;
                }
            }
            best
        })
        .collect()
}

#[cfg(feature = "lp")]
mod highs_lp {
    use super::{Formulation, LpData, LpIterations, LpSolution, occupancy_policy};
    use crate::runner::{Problem, SolveError};
    use decide_core::Sense;
    use highs::{ColProblem, HighsModelStatus, Model, Sense as HighsSense};
    use std::time::Duration;

    /// HiGHS's tightest KKT tolerance.
    const TOLERANCE: f64 = 1e-10;

    pub(super) fn solve(
        problem: &Problem<'_>,
        formulation: Formulation,
        initial: &[f64],
        time_limit: Option<Duration>,
    ) -> Result<LpSolution, SolveError> {
        let mdp = problem.model;
        let data = LpData::new(problem);
        let maximise = problem.sense() == Sense::Maximize;
        let alpha: Vec<f64> = data.states.iter().map(|&s| initial[s]).collect();
        let mut lp = ColProblem::new();
        let (sense, n_variables) = match formulation {
            Formulation::Primal => {
                // Rows: pairs; columns: states.
                let rows: Vec<_> = data
                    .rhs
                    .iter()
                    .map(|&b| {
                        if maximise {
                            lp.add_row(b..)
                        } else {
                            lp.add_row(..=b)
                        }
                    })
                    .collect();
                let (start, pair, value) = data.transpose();
                for (c, &a) in alpha.iter().enumerate() {
                    let entries = (start[c]..start[c + 1]).map(|j| (rows[pair[j]], value[j]));
                    lp.add_column(a, f64::NEG_INFINITY.., entries);
                }
                let sense = if maximise {
                    HighsSense::Minimise
                } else {
                    HighsSense::Maximise
                };
                (sense, data.states.len())
            }
            Formulation::Dual => {
                // Rows: states; columns: pairs.
                let rows: Vec<_> = alpha.iter().map(|&a| lp.add_row(a..=a)).collect();
                for (k, &b) in data.rhs.iter().enumerate() {
                    let entries = (data.start[k]..data.start[k + 1])
                        .map(|j| (rows[data.column[j]], data.value[j]));
                    lp.add_column(b, 0.0.., entries);
                }
                let sense = if maximise {
                    HighsSense::Maximise
                } else {
                    HighsSense::Minimise
                };
                (sense, data.rhs.len())
            }
        };
        let failed = |what: &str| SolveError::LinearProgram {
            status: what.to_string(),
        };
        let mut model: Model = lp
            .try_optimise(sense)
            .map_err(|e| failed(&format!("model rejected ({e:?})")))?;
        model.make_quiet();
        let options: [(&str, Value); 8] = [
            ("output_flag", Value::Bool(false)),
            // MDP LPs do not reduce (terminal states are already substituted), and presolve
            // made the dual LP of random_N2000 take 11 s instead of 1.3 s.
            ("presolve", Value::Str("off")),
            ("solver", Value::Str("ipm")),
            ("run_crossover", Value::Str("on")),
            ("primal_feasibility_tolerance", Value::Float(TOLERANCE)),
            ("dual_feasibility_tolerance", Value::Float(TOLERANCE)),
            ("ipm_optimality_tolerance", Value::Float(1e-12)),
            (
                "time_limit",
                Value::Float(time_limit.map_or(f64::INFINITY, |t| t.as_secs_f64())),
            ),
        ];
        for (name, value) in options {
            let set = match value {
                Value::Bool(b) => model.try_set_option(name, b),
                Value::Str(s) => model.try_set_option(name, s),
                Value::Float(x) => model.try_set_option(name, x),
            };
            set.map_err(|_| failed(&format!("cannot set option {name}")))?;
        }
        let solved = model
            .try_solve()
            .map_err(|e| failed(&format!("error {e:?}")))?;
        let status = solved.status();
        let optimal = status == HighsModelStatus::Optimal;
        let usable = optimal
            || matches!(
                status,
                HighsModelStatus::ReachedTimeLimit | HighsModelStatus::ReachedInterrupt
            );
        if !usable {
            return Err(failed(&format!("{status:?}")));
        }
        let iterations = LpIterations {
            ipm: solved.ipm_iteration_count(),
            crossover: solved.crossover_iteration_count(),
            simplex: solved.simplex_iteration_count(),
        };
        let objective = solved.objective_value();
        let solution = solved.get_solution();
        let (v, x) = match formulation {
            Formulation::Primal => (solution.columns(), solution.dual_rows()),
            Formulation::Dual => (solution.dual_rows(), solution.columns()),
        };
        let complete = v.len() == data.states.len()
            && x.len() == data.rhs.len()
            && n_variables == solution.columns().len();
        let n = mdp.n_states();
        let mut values: Vec<f64> = (0..n).map(|s| mdp.terminal_value(s)).collect();
        let mut occupancy = vec![0.0; mdp.n_pairs()];
        if complete {
            for (c, &s) in data.states.iter().enumerate() {
                values[s] = v[c];
            }
            // HiGHS's duals are the objective's gradient in the constraint bounds, so the
            // occupancy measure is non-negative for either sense; rounding may leave -0-ish.
            for (o, &xk) in occupancy.iter_mut().zip(x) {
                *o = xk.max(0.0);
            }
        } else if optimal {
            return Err(failed("optimal, but no solution returned"));
        }
        let policy = occupancy_policy(problem, &occupancy);
        let mut initial_by_state = vec![0.0; n];
        for (c, &s) in data.states.iter().enumerate() {
            initial_by_state[s] = alpha[c];
        }
        Ok(LpSolution {
            formulation,
            optimal,
            values,
            occupancy,
            policy,
            initial: initial_by_state,
            objective,
            iterations,
            status: format!("{status:?}"),
        })
    }

    enum Value {
        Bool(bool),
        Str(&'static str),
        Float(f64),
    }
}

#[cfg(not(feature = "lp"))]
mod highs_lp {
    use super::{Formulation, LpSolution};
    use crate::runner::{Problem, SolveError};
    use std::time::Duration;

    pub(super) fn solve(
        _problem: &Problem<'_>,
        _formulation: Formulation,
        _initial: &[f64],
        _time_limit: Option<Duration>,
    ) -> Result<LpSolution, SolveError> {
        Err(SolveError::LinearProgrammingUnavailable)
    }
}
