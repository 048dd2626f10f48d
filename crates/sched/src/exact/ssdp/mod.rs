//! Successive sublimation dynamic programming (SSDP) for 1||Σw_jT_j: Lagrangian lower bounds
//! on a time-indexed network, tightened stage by stage until the relaxation's best path is a
//! schedule, or no path can beat the incumbent.
//!
//! The method is Ibaraki's SSDP as applied to single-machine scheduling by Tanaka, Fujikuma &
//! Araki ("An exact algorithm for single-machine scheduling without machine idle time",
//! J. Scheduling 12 (2009) 575–593). Their three stages, as built here:
//!
//! 1. **Node relaxation** ([`nodes`]). A schedule is a path through nodes (t, j) = "job j
//!    completes at t" from time 0 to T = Σp. Relaxing "each job exactly once" with multipliers
//!    μ_j gives L(μ) = Σμ_j + min over paths of Σ (f_j(t) − μ_j), a lower bound for every μ.
//!    The path may repeat jobs, but never as j, k, j: each node keeps its best value and its
//!    best value through a *different* predecessor, which makes this 2-cycle elimination
//!    exact (Houck, Picard, Queyranne & Vemuganti 1980; Abdul-Razaq & Potts 1988). Arcs where
//!    an adjacent interchange would be strictly better are left out, and so are nodes outside
//!    the time window that the dominance precedences allow (see [`Precedence`]).
//! 2. **Arc relaxation** ([`arcs`]). The arcs that survive stage 1 become the states
//!    (t, i, j) = "i then j, j completing at t". Now no job may repeat within any four
//!    consecutive jobs (best and second-best labels again, one level further back), and a
//!    transition i, j, k is removed when another order of the three jobs in the same time
//!    span is better (Tanaka et al.'s "dominance of successive jobs").
//! 3. **State-space modifiers** ([`modifiers`]). A set M of jobs whose "already done" flags
//!    join the state (t, i, j, done ∩ M), so jobs in M appear at most once and, at T, exactly
//!    once. Jobs that the best path repeats or misses are added to M and the DP is run again,
//!    until the best path is a schedule (then it is optimal) or nothing beats the incumbent
//!    (then the incumbent is).
//!
//! Between stages the multipliers are improved by subgradient ascent, and every state whose
//! best relaxed path through it cannot beat the incumbent is deleted (forward plus backward
//! value above UB − 1, costs being integers). This elimination is what keeps the later stages
//! small, so a good incumbent (iterated dynasearch) matters. Every relaxed value is a lower
//! bound at every moment, so a run stopped by its time limit still reports a valid bound.

mod arcs;
mod modifiers;
mod nodes;

use super::{Deadline, Precedence};
use crate::instance::Instance;
use std::hash::Hasher;

/// Settings of [`solve`].
#[derive(Clone, Debug, PartialEq)]
pub struct SsdpOptions {
    /// Stop after this many seconds with the best schedule and bound so far.
    pub time_limit: Option<f64>,
    /// Largest memory for the time-indexed network of stage 1, in bytes: about
    /// n · (T + 1) · (48 + 8 ⌈n/64⌉). Above it, [`solve`] stops at once with
    /// [`StopReason::MemoryLimit`] (1||ΣT_j instances that large are Lawler's job).
    pub max_network_bytes: usize,
    /// Largest number of arc states in stage 2, or states in stage 3 (each about 100 bytes).
    pub max_states: usize,
    /// Most subgradient iterations in stage 1. Stage 1 is cheap per iteration but its bound
    /// is weak, so it only prepares multipliers and elimination for stage 2.
    pub node_iterations: usize,
    /// Most subgradient iterations in stage 2.
    pub arc_iterations: usize,
}

impl Default for SsdpOptions {
    fn default() -> Self {
        SsdpOptions {
            time_limit: None,
            max_network_bytes: 2 << 30,
            max_states: 20_000_000,
            node_iterations: 60,
            arc_iterations: 200,
        }
    }
}

/// Why [`solve`] stopped before proving optimality.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The time limit passed.
    TimeLimit,
    /// The network or the state space outgrew the limits in [`SsdpOptions`].
    MemoryLimit,
}

/// Counters of a run, for benchmarks and tuning.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SsdpStats {
    /// Subgradient iterations in stages 1 and 2.
    pub subgradient_iterations: usize,
    /// The best Lagrangian bound of stage 1.
    pub node_bound: f64,
    /// The best Lagrangian bound of stage 2.
    pub arc_bound: f64,
    /// Arcs of the network before stage 1's elimination.
    pub arcs_initial: usize,
    /// Arcs left after stage 1.
    pub arcs_after_nodes: usize,
    /// Arc states left after stage 2.
    pub arcs_after_arcs: usize,
    /// Runs of stage 3.
    pub modifier_iterations: usize,
    /// Jobs in the modifier set at the end.
    pub modifiers: usize,
    /// Most states held by one run of stage 3.
    pub max_states: usize,
    /// Seconds spent in stages 1, 2 and 3.
    pub stage_seconds: [f64; 3],
}

/// What [`solve`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct SsdpOutcome {
    /// The best schedule found.
    pub sequence: Vec<usize>,
    /// Its cost.
    pub objective: i64,
    /// A proven lower bound on the optimal cost (equal to `objective` when proven optimal).
    pub lower_bound: i64,
    /// Whether `sequence` is proven optimal.
    pub proven_optimal: bool,
    /// Why the run stopped early, if it did.
    pub stop: Option<StopReason>,
    /// Counters.
    pub stats: SsdpStats,
}

/// Solves `instance` exactly, starting from the incumbent `initial` (any permutation; a good
/// one, e.g. from iterated dynasearch, makes elimination much stronger).
///
/// # Panics
/// If `initial` is not a permutation of the jobs.
pub fn solve(instance: &Instance, initial: &[usize], options: &SsdpOptions) -> SsdpOutcome {
    let deadline = Deadline::after(options.time_limit);
    solve_until(instance, initial, options, &deadline)
}

pub(crate) fn solve_until(
    instance: &Instance,
    initial: &[usize],
    options: &SsdpOptions,
    deadline: &Deadline,
) -> SsdpOutcome {
    assert!(
        instance.is_permutation(initial),
        "the initial sequence must be a permutation of the jobs"
    );
    let mut search = Search {
        upper: instance.objective(initial),
        incumbent: initial.to_vec(),
        lower: 0,
        stats: SsdpStats::default(),
    };
    let stop = run(instance, options, deadline, &mut search).err();
    let proven = stop.is_none();
    let lower = if proven {
        search.upper
    } else {
        search.lower.min(search.upper)
    };
    SsdpOutcome {
        sequence: search.incumbent,
        objective: search.upper,
        lower_bound: lower,
        proven_optimal: proven,
        stop,
        stats: search.stats,
    }
}

/// The incumbent and the best proven bound while the stages run.
struct Search {
    upper: i64,
    incumbent: Vec<usize>,
    lower: i64,
    stats: SsdpStats,
}

impl Search {
    /// Records a relaxed bound `value` (a real number): the optimum is an integer at least
    /// `value` minus rounding error.
    fn raise_lower(&mut self, value: f64) {
        let bound = (value - ROUNDING_ALLOWANCE).ceil();
        if bound.is_finite() && bound as i64 > self.lower {
            self.lower = bound as i64;
        }
    }

    /// Nothing is left that could beat the incumbent.
    fn close(&mut self) {
        self.lower = self.upper;
    }

    /// The largest relaxed value a path may have and still lead to a schedule strictly better
    /// than the incumbent. Costs are integers, so such a schedule costs at most UB − 1, and its
    /// relaxed value equals its cost up to rounding far below 0.5.
    fn threshold(&self) -> f64 {
        self.upper as f64 - 0.5
    }

    /// Offers a schedule found along the way.
    fn offer(&mut self, instance: &Instance, sequence: &[usize]) {
        let cost = instance.objective(sequence);
        if cost < self.upper {
            self.upper = cost;
            self.incumbent = sequence.to_vec();
        }
    }

    fn proven(&self) -> bool {
        self.lower >= self.upper
    }
}

/// Slack for floating-point error in relaxed path values; costs are integers, so anything
/// well below 1 is safe, and rounding in sums of a few thousand doubles is far below this.
const ROUNDING_ALLOWANCE: f64 = 1e-6;

const INFINITE: f64 = f64::INFINITY;
/// Link of a label at the start (forward) or end (backward) of the schedule.
const TERMINAL: u32 = u32::MAX - 1;
/// No link.
const NO_LINK: u32 = u32::MAX;

fn run(
    instance: &Instance,
    options: &SsdpOptions,
    deadline: &Deadline,
    search: &mut Search,
) -> Result<(), StopReason> {
    let n = instance.n_jobs();
    let horizon = instance.total_processing_time();
    let nodes = (horizon as u128 + 1) * n as u128;
    let bytes = nodes * (48 + 8 * n.div_ceil(64) as u128);
    if bytes > options.max_network_bytes as u128 || n >= (u32::MAX / 4) as usize {
        return Err(StopReason::MemoryLimit);
    }
    let precedence = Precedence::new(instance);
    let clock = std::time::Instant::now();
    let mut network = nodes::Network::new(instance, &precedence);
    search.stats.arcs_initial = network.count_arcs();
    let mut mu = vec![0.0; n];
    let outcome = relax(
        &mut network,
        &mut mu,
        2.0,
        options.node_iterations,
        deadline,
        search,
    )?;
    search.stats.node_bound = outcome;
    search.stats.stage_seconds[0] = clock.elapsed().as_secs_f64();
    search.stats.arcs_after_nodes = network.count_arcs();
    if search.proven() {
        return Ok(());
    }
    if network.count_arcs() > options.max_states {
        return Err(StopReason::MemoryLimit);
    }
    let mut arc_network = arcs::ArcNetwork::new(&network, &precedence);
    let outcome = relax(
        &mut arc_network,
        &mut mu,
        1.0,
        options.arc_iterations,
        deadline,
        search,
    )?;
    search.stats.arc_bound = outcome;
    search.stats.stage_seconds[1] = clock.elapsed().as_secs_f64() - search.stats.stage_seconds[0];
    search.stats.arcs_after_arcs = arc_network.count_live_arcs();
    if search.proven() {
        return Ok(());
    }
    let refined = modifiers::refine(&arc_network, &precedence, &mu, options, deadline, search);
    search.stats.stage_seconds[2] = clock.elapsed().as_secs_f64()
        - search.stats.stage_seconds[0]
        - search.stats.stage_seconds[1];
    refined
}

/// A Lagrangian relaxation solved by dynamic programming over a network of states.
trait Relaxation {
    /// The instance.
    fn instance(&self) -> &Instance;
    /// Best values from time 0 into every state.
    fn forward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason>;
    /// Best values from every state to T, not counting the state's own job.
    fn backward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason>;
    /// The best complete path of a forward pass (relaxed value and its jobs), if any.
    fn best_path(&self, forward: &Labels) -> Option<(f64, Vec<usize>)>;
    /// Deletes what cannot lie on a path of relaxed value at most `threshold`.
    fn eliminate(&mut self, forward: &Labels, backward: &Labels, mu: &[f64], threshold: f64);
}

/// A Lagrangian heuristic: turns a relaxed path (jobs repeated or missing) into a schedule
/// close to it, which is often optimal once the bound is tight. Keeps the first occurrence of
/// every job, inserts each missing job where it costs least, then descends with dynasearch.
fn repair(instance: &Instance, path: &[usize]) -> Vec<usize> {
    let n = instance.n_jobs();
    let mut seen = vec![false; n];
    let mut sequence: Vec<usize> = path
        .iter()
        .copied()
        .filter(|&j| !std::mem::replace(&mut seen[j], true))
        .collect();
    for job in 0..n {
        if seen[job] {
            continue;
        }
        let mut best = (i64::MAX, 0);
        for position in 0..=sequence.len() {
            sequence.insert(position, job);
            let cost = instance.objective(&sequence);
            sequence.remove(position);
            if cost < best.0 {
                best = (cost, position);
            }
        }
        sequence.insert(best.1, job);
    }
    crate::local_search::dynasearch_with_insertions(instance, &mut sequence);
    sequence
}

/// Polyak factor halves after this many iterations without a better bound.
const STALL_ITERATIONS: usize = 5;

/// Backward pass and elimination after every this many iterations: elimination shrinks the
/// network for the following passes, but costs two passes itself; every fourth iteration
/// roughly halves the time of stages 1–2 on the OR-Library sets against every iteration.
const ELIMINATE_EVERY: usize = 4;

/// Weight of the previous direction in the deflected subgradient (Camerini, Fratta &
/// Maffioli 1975): d_k = g_k + β d_{k−1}. Plain subgradient steps zigzag on this dual; with
/// β = 0.7 the bound on the hard OR-Library instances converges several times faster.
const DEFLECTION: f64 = 0.7;

/// Subgradient ascent on the multipliers `mu`, eliminating after every iteration. Leaves the
/// multipliers of the best bound in `mu` and returns that bound.
///
/// Step: μ += λ (UB − L(μ)) d / ‖d‖² (Polyak's rule with the incumbent as target) along the
/// deflected subgradient d = g + β d_prev, g_j = 1 − (times j is on the best path); λ starts
/// at `scale` and halves whenever [`STALL_ITERATIONS`] iterations pass without a better bound.
/// Every iteration also tries to turn the relaxed path into a better incumbent ([`repair`]).
fn relax<R: Relaxation>(
    relaxation: &mut R,
    mu: &mut [f64],
    mut scale: f64,
    iterations: usize,
    deadline: &Deadline,
    search: &mut Search,
) -> Result<f64, StopReason> {
    let n = mu.len();
    let mut best_mu = mu.to_vec();
    let mut best_bound = f64::NEG_INFINITY;
    let mut stall = 0;
    let mut direction = vec![0.0f64; n];
    for _ in 0..iterations.max(1) {
        search.stats.subgradient_iterations += 1;
        let forward = relaxation.forward(mu, deadline)?;
        let mu_sum: f64 = mu.iter().sum();
        let Some((value, path)) = relaxation.best_path(&forward) else {
            // No path is left that could beat the incumbent.
            search.close();
            return Ok(search.upper as f64);
        };
        let bound = value + mu_sum;
        search.raise_lower(bound);
        if bound > best_bound + 1e-9 {
            best_bound = bound;
            best_mu.copy_from_slice(mu);
            stall = 0;
        } else {
            stall += 1;
            if stall >= STALL_ITERATIONS {
                scale /= 2.0;
                stall = 0;
            }
        }
        let mut counts = vec![0i64; n];
        for &j in &path {
            counts[j] += 1;
        }
        if counts.iter().all(|&c| c == 1) {
            // The relaxation's optimum is a schedule, hence optimal.
            search.offer(relaxation.instance(), &path);
        } else {
            search.offer(relaxation.instance(), &repair(relaxation.instance(), &path));
        }
        if search.proven() {
            return Ok(best_bound);
        }
        if search.stats.subgradient_iterations % ELIMINATE_EVERY == 0 {
            let backward = relaxation.backward(mu, deadline)?;
            relaxation.eliminate(&forward, &backward, mu, search.threshold());
        }
        for (d, &c) in direction.iter_mut().zip(&counts) {
            *d = (1 - c) as f64 + DEFLECTION * *d;
        }
        let norm: f64 = direction.iter().map(|d| d * d).sum();
        if !(norm > 0.0) {
            break;
        }
        let step = scale * (search.upper as f64 - bound) / norm;
        for (m, &d) in mu.iter_mut().zip(&direction) {
            *m += step * d;
        }
        if scale < 1e-3 {
            break;
        }
    }
    mu.copy_from_slice(&best_mu);
    // Leave the network eliminated with respect to the multipliers the next stage uses.
    let forward = relaxation.forward(mu, deadline)?;
    if relaxation.best_path(&forward).is_none() {
        search.close();
        return Ok(best_bound);
    }
    let backward = relaxation.backward(mu, deadline)?;
    relaxation.eliminate(&forward, &backward, mu, search.threshold());
    Ok(best_bound)
}

/// Best and second-best (through a different link) values of every state: the link of a
/// forward label is the job before, that of a backward label the job after. One
/// [`LabelPair`] per state, so that an update touches one cache line.
struct Labels {
    pairs: Vec<LabelPair>,
}

impl Labels {
    fn new(size: usize) -> Self {
        Labels {
            pairs: vec![LabelPair::EMPTY; size],
        }
    }

    #[inline]
    fn best(&self, state: usize) -> f64 {
        self.pairs[state].best
    }

    #[inline]
    fn offer(&mut self, state: usize, value: f64, link: u32) {
        self.pairs[state].offer(value, link);
    }

    #[inline]
    fn set(&mut self, state: usize, pair: LabelPair) {
        self.pairs[state] = pair;
    }

    /// The best value at `state` whose link is not `link`.
    #[inline]
    fn excluding(&self, state: usize, link: u32) -> f64 {
        self.pairs[state].excluding(link)
    }

    /// The link of the best value at `state` whose link is not `link`.
    #[inline]
    fn link_excluding(&self, state: usize, link: u32) -> u32 {
        self.pairs[state].link_excluding(link)
    }
}

/// A best value and the best value through a different link.
#[derive(Clone, Copy, Debug)]
struct LabelPair {
    best: f64,
    best_link: u32,
    second: f64,
    second_link: u32,
}

impl LabelPair {
    const EMPTY: LabelPair = LabelPair {
        best: INFINITE,
        best_link: NO_LINK,
        second: INFINITE,
        second_link: NO_LINK,
    };

    #[inline]
    fn offer(&mut self, value: f64, link: u32) {
        if link == self.best_link {
            if value < self.best {
                self.best = value;
            }
        } else if value < self.best {
            self.second = self.best;
            self.second_link = self.best_link;
            self.best = value;
            self.best_link = link;
        } else if value < self.second {
            self.second = value;
            self.second_link = link;
        }
    }

    #[inline]
    fn excluding(&self, link: u32) -> f64 {
        if self.best_link != link {
            self.best
        } else {
            self.second
        }
    }

    #[inline]
    fn link_excluding(&self, link: u32) -> u32 {
        if self.best_link != link {
            self.best_link
        } else {
            self.second_link
        }
    }
}

/// Calls `f` with the index of every set bit of `words`.
#[inline]
fn for_each_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (w, &word) in words.iter().enumerate() {
        let mut bits = word;
        while bits != 0 {
            f(w * 64 + bits.trailing_zeros() as usize);
            bits &= bits - 1;
        }
    }
}

/// FxHash (the Firefox/rustc hash): the keys are small integers, for which SipHash's
/// protection against adversarial keys only costs time.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.add(value as u64);
    }
    fn write_u128(&mut self, value: u128) {
        self.add(value as u64);
        self.add((value >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}
