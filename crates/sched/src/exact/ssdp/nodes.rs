//! Stage 1: the time-indexed node network, 2-cycle elimination, adjacent-interchange and
//! precedence filtering.

use super::{
    INFINITE, LabelPair, Labels, NO_LINK, Precedence, Relaxation, StopReason, TERMINAL,
    for_each_bit,
};
use crate::exact::Deadline;
use crate::instance::Instance;

/// The time-indexed network of the relaxation: node (t, j) means "job j completes at t";
/// `arcs` holds, for each node, the set of jobs that may come next.
pub(super) struct Network<'a> {
    pub(super) instance: &'a Instance,
    pub(super) n: usize,
    pub(super) horizon: usize,
    /// Words of a job set.
    pub(super) words: usize,
    pub(super) processing: Vec<usize>,
    /// For node (t, j) at `(t · n + j) · words`: the jobs that may follow j.
    pub(super) arcs: Vec<u64>,
    /// The jobs that may come first.
    pub(super) start_arcs: Vec<u64>,
}

impl<'a> Network<'a> {
    pub(super) fn new(instance: &'a Instance, precedence: &Precedence) -> Self {
        let n = instance.n_jobs();
        let horizon = instance.total_processing_time() as usize;
        let words = n.div_ceil(64);
        let processing: Vec<usize> = instance
            .jobs()
            .iter()
            .map(|j| j.processing_time as usize)
            .collect();
        // Time windows from the precedences: j completes no earlier than p_j plus the work
        // that must precede it, and no later than T minus the work that must follow it.
        let earliest: Vec<usize> = (0..n)
            .map(|j| {
                processing[j]
                    + precedence
                        .predecessors(j)
                        .map(|i| processing[i])
                        .sum::<usize>()
            })
            .collect();
        let latest: Vec<usize> = (0..n)
            .map(|j| {
                horizon
                    - precedence
                        .successors(j)
                        .map(|k| processing[k])
                        .sum::<usize>()
            })
            .collect();
        let valid = |t: usize, j: usize| earliest[j] <= t && t <= latest[j];
        let mut arcs = vec![0u64; (horizon + 1) * n * words];
        for t in 1..horizon {
            for i in 0..n {
                if !valid(t, i) {
                    continue;
                }
                let node = t * n + i;
                for k in 0..n {
                    if k == i || precedence.must_precede(k, i) {
                        continue;
                    }
                    let end = t + processing[k];
                    if end > horizon || !valid(end, k) {
                        continue;
                    }
                    if precedence.adjacent_allowed(instance, i, k, end as i64) {
                        arcs[node * words + k / 64] |= 1 << (k % 64);
                    }
                }
            }
        }
        let mut start_arcs = vec![0u64; words];
        for k in 0..n {
            if valid(processing[k], k) {
                start_arcs[k / 64] |= 1 << (k % 64);
            }
        }
        Network {
            instance,
            n,
            horizon,
            words,
            processing,
            arcs,
            start_arcs,
        }
    }

    #[inline]
    pub(super) fn node_arcs(&self, node: usize) -> &[u64] {
        &self.arcs[node * self.words..(node + 1) * self.words]
    }

    #[inline]
    pub(super) fn cost(&self, job: usize, completion: usize) -> f64 {
        self.instance.job(job).cost_at(completion as i64) as f64
    }

    pub(super) fn count_arcs(&self) -> usize {
        self.arcs
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>()
            + self
                .start_arcs
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
    }
}

impl Relaxation for Network<'_> {
    fn instance(&self) -> &Instance {
        self.instance
    }

    fn forward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason> {
        let n = self.n;
        let mut labels = Labels::new((self.horizon + 1) * n);
        for_each_bit(&self.start_arcs, |k| {
            let t = self.processing[k];
            labels.offer(t * n + k, self.cost(k, t) - mu[k], TERMINAL);
        });
        for t in 1..self.horizon {
            if t % 64 == 0 && deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            for i in 0..n {
                let node = t * n + i;
                if labels.best(node) == INFINITE {
                    continue;
                }
                for_each_bit(self.node_arcs(node), |k| {
                    let value = labels.excluding(node, k as u32);
                    if value < INFINITE {
                        let end = t + self.processing[k];
                        labels.offer(end * n + k, value + self.cost(k, end) - mu[k], i as u32);
                    }
                });
            }
        }
        Ok(labels)
    }

    fn backward(&self, mu: &[f64], deadline: &Deadline) -> Result<Labels, StopReason> {
        let n = self.n;
        let mut labels = Labels::new((self.horizon + 1) * n);
        for j in 0..n {
            labels.offer(self.horizon * n + j, 0.0, TERMINAL);
        }
        for t in (1..self.horizon).rev() {
            if t % 64 == 0 && deadline.expired() {
                return Err(StopReason::TimeLimit);
            }
            for i in 0..n {
                let node = t * n + i;
                let mut pair = LabelPair::EMPTY;
                for_each_bit(self.node_arcs(node), |k| {
                    let end = t + self.processing[k];
                    let value = labels.excluding(end * n + k, i as u32);
                    if value < INFINITE {
                        pair.offer(value + self.cost(k, end) - mu[k], k as u32);
                    }
                });
                labels.set(node, pair);
            }
        }
        Ok(labels)
    }

    fn best_path(&self, forward: &Labels) -> Option<(f64, Vec<usize>)> {
        let n = self.n;
        let (last, value) = (0..n)
            .map(|j| (j, forward.best(self.horizon * n + j)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if value == INFINITE {
            return None;
        }
        let mut path = Vec::new();
        let mut t = self.horizon;
        let mut job = last;
        let mut next = TERMINAL;
        loop {
            path.push(job);
            let node = t * n + job;
            let link = forward.link_excluding(node, next);
            if link == TERMINAL || link == NO_LINK {
                break;
            }
            next = job as u32;
            t -= self.processing[job];
            job = link as usize;
        }
        path.reverse();
        Some((value, path))
    }

    /// Deletes every arc (and every node) whose best relaxed path exceeds the threshold.
    fn eliminate(&mut self, forward: &Labels, backward: &Labels, mu: &[f64], threshold: f64) {
        let n = self.n;
        let words = self.words;
        let limit = threshold - mu.iter().sum::<f64>();
        for t in 1..self.horizon {
            for i in 0..n {
                let node = t * n + i;
                let through = forward.best(node) + backward.best(node);
                let range = node * words..(node + 1) * words;
                if !(through <= limit) {
                    self.arcs[range].fill(0);
                    continue;
                }
                for w in range {
                    let mut bits = self.arcs[w];
                    let mut keep = bits;
                    while bits != 0 {
                        let k = (w - node * words) * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        let end = t + self.processing[k];
                        let target = end * n + k;
                        let value = forward.excluding(node, k as u32) + self.cost(k, end) - mu[k]
                            + backward.excluding(target, i as u32);
                        if !(value <= limit) {
                            keep &= !(1 << (k % 64));
                        }
                    }
                    self.arcs[w] = keep;
                }
            }
        }
        for k in 0..n {
            let t = self.processing[k];
            let node = t * n + k;
            if !(forward.best(node) + backward.best(node) <= limit) {
                self.start_arcs[k / 64] &= !(1 << (k % 64));
            }
        }
    }
}
