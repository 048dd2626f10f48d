//! Stage 2: the arcs that survive stage 1 become states (t, i, j) = "i then j, j completing at
//! t". Labels keep the best value and the best through a different job before i, so no job
//! repeats within four consecutive jobs; a transition i, j → k is kept only if the three jobs
//! are in an order no other order of them beats ([`Precedence::triple_allowed`]).

use super::nodes::Network;
use super::{
    INFINITE, LabelPair, Labels, NO_LINK, Precedence, Relaxation, StopReason, TERMINAL,
    for_each_bit,
};
use crate::exact::Deadline;
use crate::instance::Instance;

/// The arc-state network. Arc ids are grouped by the node (t, j) they enter, in increasing
/// (t, j) order, and within a node by the job before (the start is job index n).
pub(super) struct ArcNetwork<'a> {
    pub(super) base: &'a Network<'a>,
    /// Words of a predecessor set (jobs, plus bit n for the start).
    in_words: usize,
    /// Per node (t, j): the jobs (or the start) that may come just before j.
    in_bits: Vec<u64>,
    /// Per node: the id of its first arc; one more entry at the end.
    in_offset: Vec<u32>,
    /// Per arc: the job before (n for the start).
    pub(super) from: Vec<u32>,
    /// Per arc: the job that completes at the arc's time.
    pub(super) to: Vec<u32>,
    /// Per arc: its time.
    pub(super) end: Vec<u32>,
    /// Per arc: the jobs that may follow (`base.words` words each).
    pub(super) next: Vec<u64>,
    /// Per arc: not eliminated.
    pub(super) alive: Vec<bool>,
}

impl<'a> ArcNetwork<'a> {
    pub(super) fn new(base: &'a Network<'a>, precedence: &Precedence) -> Self {
        let n = base.n;
        let nodes = (base.horizon + 1) * n;
        let in_words = (n + 1).div_ceil(64);
        let mut in_bits = vec![0u64; nodes * in_words];
        for t in 1..base.horizon {
            for i in 0..n {
                for_each_bit(base.node_arcs(t * n + i), |k| {
                    let target = (t + base.processing[k]) * n + k;
                    in_bits[target * in_words + i / 64] |= 1 << (i % 64);
                });
            }
        }
        for_each_bit(&base.start_arcs, |k| {
            let target = base.processing[k] * n + k;
            in_bits[target * in_words + n / 64] |= 1 << (n % 64);
        });
        let mut in_offset = Vec::with_capacity(nodes + 1);
        let mut from = Vec::new();
        let mut to = Vec::new();
        let mut end = Vec::new();
        let mut total = 0u32;
        for node in 0..nodes {
            in_offset.push(total);
            let (t, j) = (node / n, node % n);
            for_each_bit(&in_bits[node * in_words..(node + 1) * in_words], |i| {
                from.push(i as u32);
                to.push(j as u32);
                end.push(t as u32);
                total += 1;
            });
        }
        in_offset.push(total);
        let words = base.words;
        let arcs = total as usize;
        let mut next = vec![0u64; arcs * words];
        for a in 0..arcs {
            let (i, j, t) = (from[a] as usize, to[a] as usize, end[a] as usize);
            for_each_bit(base.node_arcs(t * n + j), |k| {
                if k == i {
                    return;
                }
                let finish = (t + base.processing[k]) as i64;
                if i < n && !precedence.triple_allowed(base.instance, i, j, k, finish) {
                    return;
                }
                next[a * words + k / 64] |= 1 << (k % 64);
            });
        }
        ArcNetwork {
            base,
            in_words,
            in_bits,
            in_offset,
            from,
            to,
            end,
            next,
            alive: vec![true; arcs],
        }
    }

    pub(super) fn n_arcs(&self) -> usize {
        self.from.len()
    }

    /// The id of the arc "`before` then `job`, `job` completing at `t`"; it must exist.
    #[inline]
    pub(super) fn arc_id(&self, t: usize, before: usize, job: usize) -> usize {
        let node = t * self.base.n + job;
        let bits = &self.in_bits[node * self.in_words..(node + 1) * self.in_words];
        let word = before / 64;
        let mut rank: u32 = bits[..word].iter().map(|w| w.count_ones()).sum();
        rank += (bits[word] & ((1u64 << (before % 64)) - 1)).count_ones();
        debug_assert!(bits[word] >> (before % 64) & 1 == 1, "no such arc");
        self.in_offset[node] as usize + rank as usize
    }

    /// The arcs entering node (t, j).
    #[inline]
    pub(super) fn arcs_into(&self, t: usize, job: usize) -> std::ops::Range<usize> {
        let node = t * self.base.n + job;
        self.in_offset[node] as usize..self.in_offset[node + 1] as usize
    }

    #[inline]
    pub(super) fn arc_next(&self, arc: usize) -> &[u64] {
        let words = self.base.words;
        &self.next[arc * words..(arc + 1) * words]
    }

    /// The arcs from the start: (p_j, start, j) for every first job j still alive.
    pub(super) fn start_arcs(&self) -> impl Iterator<Item = usize> + '_ {
        let n = self.base.n;
        (0..n).filter_map(move |j| {
            let t = self.base.processing[j];
            let node = t * n + j;
            let bits = &self.in_bits[node * self.in_words..(node + 1) * self.in_words];
            let has = bits[n / 64] >> (n % 64) & 1 == 1;
            let arc = has.then(|| self.arc_id(t, n, j))?;
            self.alive[arc].then_some(arc)
        })
    }

    pub(super) fn count_live_arcs(&self) -> usize {
        self.alive.iter().filter(|&&a| a).count()
    }
}

impl Relaxation for ArcNetwork<'_> {
    fn instance(&self) -> &Instance {
        self.base.instance
    }

    fn forward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason> {
        let base = self.base;
        let n = base.n;
        let mut labels = Labels::new(self.n_arcs());
        for arc in self.start_arcs() {
            let j = self.to[arc] as usize;
            let t = base.processing[j];
            labels.offer(arc, base.cost(j, t) - mu[j], TERMINAL);
        }
        for t in 1..base.horizon {
            if t % 64 == 0 && deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            for j in 0..n {
                for arc in self.arcs_into(t, j) {
                    if labels.best(arc) == INFINITE {
                        continue;
                    }
                    let before = self.from[arc];
                    for_each_bit(self.arc_next(arc), |k| {
                        let value = labels.excluding(arc, k as u32);
                        if value < INFINITE {
                            let finish = t + base.processing[k];
                            let target = self.arc_id(finish, j, k);
                            labels.offer(target, value + base.cost(k, finish) - mu[k], before);
                        }
                    });
                }
            }
        }
        Ok(labels)
    }

    fn backward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason> {
        let base = self.base;
        let n = base.n;
        let mut labels = Labels::new(self.n_arcs());
        for j in 0..n {
            for arc in self.arcs_into(base.horizon, j) {
                if self.alive[arc] {
                    labels.offer(arc, 0.0, TERMINAL);
                }
            }
        }
        for t in (1..base.horizon).rev() {
            if t % 64 == 0 && deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            for j in 0..n {
                for arc in self.arcs_into(t, j) {
                    if !self.alive[arc] {
                        continue;
                    }
                    let before = self.from[arc];
                    let mut pair = LabelPair::EMPTY;
                    for_each_bit(self.arc_next(arc), |k| {
                        let finish = t + base.processing[k];
                        let target = self.arc_id(finish, j, k);
                        let value = labels.excluding(target, before);
                        if value < INFINITE {
                            pair.offer(value + base.cost(k, finish) - mu[k], k as u32);
                        }
                    });
                    labels.set(arc, pair);
                }
            }
        }
        Ok(labels)
    }

    fn best_path(&self, forward: &Labels) -> Option<(f64, Vec<usize>)> {
        let base = self.base;
        let n = base.n;
        let (mut arc, value) = (0..n)
            .flat_map(|j| self.arcs_into(base.horizon, j))
            .map(|a| (a, forward.best(a)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if value == INFINITE {
            return None;
        }
        let mut path = Vec::new();
        let mut after = TERMINAL;
        loop {
            let (before, job, t) = (
                self.from[arc] as usize,
                self.to[arc] as usize,
                self.end[arc] as usize,
            );
            path.push(job);
            if before == n {
                break;
            }
            let link = forward.link_excluding(arc, after);
            if link == NO_LINK || link == TERMINAL {
                break;
            }
            after = job as u32;
            arc = self.arc_id(t - base.processing[job], link as usize, before);
        }
        path.reverse();
        Some((value, path))
    }

    fn eliminate(&mut self, forward: &Labels, backward: &Labels, mu: &[f64], threshold: f64) {
        let base = self.base;
        let words = base.words;
        let limit = threshold - mu.iter().sum::<f64>();
        for arc in 0..self.n_arcs() {
            if !self.alive[arc] {
                continue;
            }
            if !(forward.best(arc) + backward.best(arc) <= limit) {
                self.alive[arc] = false;
                self.next[arc * words..(arc + 1) * words].fill(0);
                continue;
            }
            let (before, job, t) = (
                self.from[arc],
                self.to[arc] as usize,
                self.end[arc] as usize,
            );
            for w in 0..words {
                let mut bits = self.next[arc * words + w];
                let mut keep = bits;
                while bits != 0 {
                    let k = w * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let finish = t + base.processing[k];
                    let target = self.arc_id(finish, job, k);
                    let value = forward.excluding(arc, k as u32) + base.cost(k, finish) - mu[k]
                        + backward.excluding(target, before);
                    if !(value <= limit) {
                        keep &= !(1 << (k % 64));
                    }
                }
                self.next[arc * words + w] = keep;
            }
        }
    }
}
