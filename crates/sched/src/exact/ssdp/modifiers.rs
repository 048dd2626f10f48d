//! Stage 3: state-space modifiers. The state becomes (arc, done ∩ M): the arc (t, i, j) of
//! stage 2 plus which jobs of the modifier set M are already done. Jobs of M then appear at
//! most once, and exactly once at T; every other constraint of stage 2 still holds. Jobs
//! that the best path repeats or misses join M and the DP runs again, each run pruned by the
//! backward values of the previous one.

use super::arcs::ArcNetwork;
use super::{
    FxHasher, INFINITE, LabelPair, Precedence, Search, SsdpOptions, StopReason, TERMINAL,
    for_each_bit,
};
use crate::exact::Deadline;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

/// Most modifier jobs (the width of the mask).
const MAX_MODIFIERS: usize = 128;

/// The jobs whose "done" flags are part of the state.
struct Modifiers {
    jobs: Vec<usize>,
    bit: Vec<Option<u32>>,
    /// Per job: the modifier jobs that must be done before it (as mask bits).
    must_follow: Vec<u128>,
    /// Per job: the modifier jobs that must not be done before it.
    must_precede: Vec<u128>,
    /// Σ p over the modifier jobs.
    processing: usize,
}

impl Modifiers {
    fn new(n: usize) -> Self {
        Modifiers {
            jobs: Vec::new(),
            bit: vec![None; n],
            must_follow: vec![0; n],
            must_precede: vec![0; n],
            processing: 0,
        }
    }

    fn add(&mut self, job: usize, processing: usize, precedence: &Precedence) {
        let b = self.jobs.len() as u32;
        self.jobs.push(job);
        self.bit[job] = Some(b);
        for k in 0..self.bit.len() {
            if precedence.must_precede(job, k) {
                self.must_follow[k] |= 1 << b;
            }
            if precedence.must_precede(k, job) {
                self.must_precede[k] |= 1 << b;
            }
        }
        self.processing += processing;
    }

    /// Whether `job` may come next when the modifier jobs in `mask` are done.
    #[inline]
    fn allows(&self, job: usize, mask: u128) -> bool {
        if let Some(b) = self.bit[job] {
            if mask >> b & 1 == 1 {
                return false;
            }
        }
        self.must_follow[job] & !mask == 0 && self.must_precede[job] & mask == 0
    }

    #[inline]
    fn with(&self, job: usize, mask: u128) -> u128 {
        match self.bit[job] {
            Some(b) => mask | 1 << b,
            None => mask,
        }
    }

    #[inline]
    fn without(&self, job: usize, mask: u128) -> u128 {
        match self.bit[job] {
            Some(b) => mask & !(1 << b),
            None => mask,
        }
    }
}

type StateIndex = HashMap<(u32, u128), u32, BuildHasherDefault<FxHasher>>;

/// A state (arc, mask); its time is the level it is stored in.
#[derive(Clone, Copy, Debug)]
struct State {
    arc: u32,
    /// Σ p of the modifier jobs in `mask`.
    done_processing: u32,
    mask: u128,
    /// Forward labels, linked by the job before the arc's first job.
    forward: LabelPair,
    /// Backward labels, linked by the job after the arc's second job.
    backward: LabelPair,
}

/// All states of one completion time.
#[derive(Default)]
struct Level {
    index: StateIndex,
    states: Vec<State>,
}

impl Level {
    /// Offers a forward value; returns whether a new state was created.
    fn offer(&mut self, arc: usize, mask: u128, done: usize, value: f64, link: u32) -> bool {
        let states = &mut self.states;
        let mut created = false;
        let index = *self.index.entry((arc as u32, mask)).or_insert_with(|| {
            created = true;
            states.push(State {
                arc: arc as u32,
                done_processing: done as u32,
                mask,
                forward: LabelPair::EMPTY,
                backward: LabelPair::EMPTY,
            });
            (states.len() - 1) as u32
        });
        self.states[index as usize].forward.offer(value, link);
        created
    }

    fn get(&self, arc: usize, mask: u128) -> Option<&State> {
        self.index
            .get(&(arc as u32, mask))
            .map(|&i| &self.states[i as usize])
    }
}

/// Where a run takes its bounds on the cost after a state.
enum Bounds<'b> {
    /// Stage 2's backward labels, per arc.
    Arcs(&'b super::Labels),
    /// The previous run, for the mask restricted to its modifiers (the first `bits`).
    Previous { levels: &'b [Level], bits: u32 },
}

impl Bounds<'_> {
    /// A lower bound on the cost after the arc state (t, arc, mask) whose first job is
    /// `before` (the next job after the arc's second job cannot be `before`).
    #[inline]
    fn lower(&self, t: usize, arc: usize, mask: u128, before: u32) -> f64 {
        match self {
            Bounds::Arcs(labels) => labels.excluding(arc, before),
            Bounds::Previous { levels, bits } => {
                let known = if *bits >= 128 {
                    mask
                } else {
                    mask & ((1u128 << bits) - 1)
                };
                levels[t]
                    .get(arc, known)
                    .map_or(INFINITE, |s| s.backward.excluding(before))
            }
        }
    }
}

/// Stage 3: adds modifiers until the best path is a schedule or nothing beats the incumbent.
pub(super) fn refine(
    network: &ArcNetwork,
    precedence: &Precedence,
    mu: &[f64],
    options: &SsdpOptions,
    deadline: &Deadline,
    search: &mut Search,
) -> Result<(), StopReason> {
    use super::Relaxation;
    let n = network.base.n;
    let mu_sum: f64 = mu.iter().sum();
    let forward = network.forward(mu, deadline)?;
    let backward = network.backward(mu, deadline)?;
    let Some((value, path)) = network.best_path(&forward) else {
        search.close();
        return Ok(());
    };
    search.raise_lower(value + mu_sum);
    drop(forward);
    let mut modifiers = Modifiers::new(n);
    add_violators(&mut modifiers, &path, network, precedence)?;
    let mut previous: Option<(Vec<Level>, u32)> = None;
    loop {
        if search.proven() {
            return Ok(());
        }
        search.stats.modifier_iterations += 1;
        search.stats.modifiers = modifiers.jobs.len();
        let bounds = match &previous {
            None => Bounds::Arcs(&backward),
            Some((levels, bits)) => Bounds::Previous {
                levels,
                bits: *bits,
            },
        };
        let limit = search.threshold() - mu_sum;
        let run = Run {
            network,
            modifiers: &modifiers,
            mu,
        };
        let (mut levels, states) = run.forward(&bounds, limit, deadline, options.max_states)?;
        search.stats.max_states = search.stats.max_states.max(states);
        let Some((value, path)) = run.best_path(&levels) else {
            search.close();
            return Ok(());
        };
        search.raise_lower(value + mu_sum);
        if is_schedule(&path, n) {
            search.offer(network.base.instance, &path);
            continue;
        }
        search.offer(
            network.base.instance,
            &super::repair(network.base.instance, &path),
        );
        run.backward(&mut levels, limit, deadline)?;
        let bits = modifiers.jobs.len() as u32;
        add_violators(&mut modifiers, &path, network, precedence)?;
        previous = Some((levels, bits));
    }
}

fn is_schedule(path: &[usize], n: usize) -> bool {
    let mut seen = vec![false; n];
    path.len() == n && path.iter().all(|&j| !std::mem::replace(&mut seen[j], true))
}

/// Adds to the modifiers every job that `path` repeats or misses.
fn add_violators(
    modifiers: &mut Modifiers,
    path: &[usize],
    network: &ArcNetwork,
    precedence: &Precedence,
) -> Result<(), StopReason> {
    let mut counts = vec![0usize; network.base.n];
    for &j in path {
        counts[j] += 1;
    }
    let violators: Vec<usize> = (0..counts.len())
        .filter(|&j| counts[j] != 1 && modifiers.bit[j].is_none())
        .collect();
    for &job in &violators {
        if modifiers.jobs.len() >= MAX_MODIFIERS {
            return Err(StopReason::MemoryLimit);
        }
        modifiers.add(job, network.base.processing[job], precedence);
    }
    Ok(())
}

/// One run of the stage-3 DP with a fixed modifier set.
struct Run<'r> {
    network: &'r ArcNetwork<'r>,
    modifiers: &'r Modifiers,
    mu: &'r [f64],
}

impl Run<'_> {
    /// The successor (finish time, arc, mask, done) of state `s` at time `t` by job `k`, if the
    /// modifiers allow it and the remaining modifier jobs still fit before T.
    #[inline]
    fn step(&self, t: usize, s: &State, k: usize) -> Option<(usize, usize, u128, usize)> {
        let network = self.network;
        let base = network.base;
        if !self.modifiers.allows(k, s.mask) {
            return None;
        }
        let finish = t + base.processing[k];
        let mut done = s.done_processing as usize;
        if self.modifiers.bit[k].is_some() {
            done += base.processing[k];
        }
        if self.modifiers.processing - done > base.horizon - finish {
            return None;
        }
        let job = network.to[s.arc as usize] as usize;
        let arc = network.arc_id(finish, job, k);
        Some((finish, arc, self.modifiers.with(k, s.mask), done))
    }

    /// Forward DP keeping only states whose value plus the bound on the rest stays within
    /// `limit`. Returns the levels and the number of states.
    fn forward(
        &self,
        bounds: &Bounds,
        limit: f64,
        deadline: &Deadline,
        max_states: usize,
    ) -> Result<(Vec<Level>, usize), StopReason> {
        let network = self.network;
        let base = network.base;
        let n = base.n as u32;
        let horizon = base.horizon;
        let mu = self.mu;
        let mut levels: Vec<Level> = (0..=horizon).map(|_| Level::default()).collect();
        let mut states = 0usize;
        for arc in network.start_arcs() {
            let k = network.to[arc] as usize;
            if !self.modifiers.allows(k, 0) {
                continue;
            }
            let finish = base.processing[k];
            let mask = self.modifiers.with(k, 0);
            let done = if self.modifiers.bit[k].is_some() {
                finish
            } else {
                0
            };
            if self.modifiers.processing - done > horizon - finish {
                continue;
            }
            let value = base.cost(k, finish) - mu[k];
            if value + bounds.lower(finish, arc, mask, n) <= limit
                && levels[finish].offer(arc, mask, done, value, TERMINAL)
            {
                states += 1;
            }
        }
        for t in 1..horizon {
            if deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            if states > max_states {
                return Err(StopReason::MemoryLimit);
            }
            let (head, tail) = levels.split_at_mut(t + 1);
            for s in &head[t].states {
                if s.forward.best == INFINITE {
                    continue;
                }
                let before = network.from[s.arc as usize];
                let job = network.to[s.arc as usize];
                for_each_bit(network.arc_next(s.arc as usize), |k| {
                    let Some((finish, arc, mask, done)) = self.step(t, s, k) else {
                        return;
                    };
                    let value = s.forward.excluding(k as u32);
                    if value == INFINITE {
                        return;
                    }
                    let value = value + base.cost(k, finish) - mu[k];
                    if !(value + bounds.lower(finish, arc, mask, job) <= limit) {
                        return;
                    }
                    if tail[finish - t - 1].offer(arc, mask, done, value, before) {
                        states += 1;
                    }
                });
            }
        }
        Ok((levels, states))
    }

    /// The best complete path, if any state reached T.
    fn best_path(&self, levels: &[Level]) -> Option<(f64, Vec<usize>)> {
        let network = self.network;
        let base = network.base;
        let n = base.n;
        let (mut index, value) = levels[base.horizon]
            .states
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.forward.best))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if value == INFINITE {
            return None;
        }
        let mut t = base.horizon;
        let mut after = TERMINAL;
        let mut path = Vec::new();
        loop {
            let s = &levels[t].states[index];
            let arc = s.arc as usize;
            let (before, job) = (network.from[arc] as usize, network.to[arc] as usize);
            path.push(job);
            if before == n {
                break;
            }
            let link = s.forward.link_excluding(after) as usize;
            let mask = self.modifiers.without(job, s.mask);
            t -= base.processing[job];
            let previous = network.arc_id(t, link, before);
            after = job as u32;
            index = *levels[t]
                .index
                .get(&(previous as u32, mask))
                .expect("the predecessor state of a stored path exists")
                as usize;
        }
        path.reverse();
        Some((value, path))
    }

    /// Backward values of every state; states whose best path through them exceeds `limit`
    /// keep no backward value, which prunes them in the next run.
    fn backward(
        &self,
        levels: &mut [Level],
        limit: f64,
        deadline: &Deadline,
    ) -> Result<(), StopReason> {
        let network = self.network;
        let base = network.base;
        let horizon = base.horizon;
        let mu = self.mu;
        for s in &mut levels[horizon].states {
            s.backward = LabelPair::EMPTY;
            s.backward.offer(0.0, TERMINAL);
        }
        for t in (1..horizon).rev() {
            if deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            let (head, tail) = levels.split_at_mut(t + 1);
            for s in &mut head[t].states {
                if s.forward.best == INFINITE {
                    continue;
                }
                let before = network.from[s.arc as usize];
                let mut pair = LabelPair::EMPTY;
                let state = *s;
                for_each_bit(network.arc_next(state.arc as usize), |k| {
                    let Some((finish, arc, mask, _)) = self.step(t, &state, k) else {
                        return;
                    };
                    let Some(next) = tail[finish - t - 1].get(arc, mask) else {
                        return;
                    };
                    let after = next.backward.excluding(before);
                    if after < INFINITE {
                        pair.offer(after + base.cost(k, finish) - mu[k], k as u32);
                    }
                });
                if s.forward.best + pair.best <= limit {
                    s.backward = pair;
                }
            }
        }
        Ok(())
    }
}
