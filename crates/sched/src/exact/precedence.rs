//! Precedences that some optimal schedule obeys, and the tie-breaking rank that makes them
//! consistent with the adjacent-interchange rule used by the DP networks.

use crate::instance::Instance;

/// A partial order "job i may be put before job j" that at least one optimal schedule obeys
/// for all pairs at once, plus a total order (`rank`) that extends it.
///
/// The rule is the dominance of Shwimer (1972) and Rinnooy Kan, Lageweg & Lenstra (1975) for
/// Σw_jT_j, which for unit weights is the first of Emmons' (1969) conditions: if p_i ≤ p_j,
/// w_i ≥ w_j and d_i ≤ d_j then exchanging i and j whenever j comes first never increases the
/// cost (the jobs in between only move earlier, and the tardiness of the pair cannot grow).
/// Equal keys are ordered by job index so that the relation is antisymmetric.
///
/// Why all precedences and the adjacent-interchange tie-breaking hold together: `rank` sorts
/// jobs by (p, −w, d, index), a linear extension of the relation. Among the optimal schedules
/// take one with the fewest inversions with respect to `rank`. Exchanging a pair that violates
/// a precedence, or an adjacent pair whose exchange does not increase the cost and that is
/// out of rank order, would give an optimal schedule with fewer inversions (exchanging an
/// inverted pair always removes at least one inversion). So that schedule obeys every
/// precedence and every adjacent rule with ties broken by rank.
#[derive(Clone, Debug)]
pub struct Precedence {
    n: usize,
    /// `before[j]`: the jobs that must come before j, as bits.
    before: Vec<Vec<u64>>,
    /// `after[j]`: the jobs that must come after j.
    after: Vec<Vec<u64>>,
    /// Position of each job in the tie-breaking total order.
    rank: Vec<usize>,
}

impl Precedence {
    /// The precedences of `instance`.
    pub fn new(instance: &Instance) -> Self {
        let n = instance.n_jobs();
        let words = n.div_ceil(64);
        let mut before = vec![vec![0u64; words]; n];
        let mut after = vec![vec![0u64; words]; n];
        let key = |j: usize| {
            let job = instance.job(j);
            (job.processing_time, -job.weight, job.due_date, j)
        };
        for i in 0..n {
            for j in 0..n {
                if i == j {
                    continue;
                }
                let (a, b) = (instance.job(i), instance.job(j));
                let dominates = a.processing_time <= b.processing_time
                    && a.weight >= b.weight
                    && a.due_date <= b.due_date
                    && key(i) < key(j);
                if dominates {
                    before[j][i / 64] |= 1 << (i % 64);
                    after[i][j / 64] |= 1 << (j % 64);
                }
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&j| key(j));
        let mut rank = vec![0; n];
        for (position, &j) in order.iter().enumerate() {
            rank[j] = position;
        }
        Precedence {
            n,
            before,
            after,
            rank,
        }
    }

    /// Whether job `i` must come before job `j`.
    pub fn must_precede(&self, i: usize, j: usize) -> bool {
        self.before[j][i / 64] >> (i % 64) & 1 == 1
    }

    /// The jobs that must come before `j`.
    pub fn predecessors(&self, j: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(move |&i| self.must_precede(i, j))
    }

    /// The jobs that must come after `j`.
    pub fn successors(&self, j: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.n).filter(move |&k| self.after[j][k / 64] >> (k % 64) & 1 == 1)
    }

    /// Position of `j` in the tie-breaking order (a linear extension of the precedences).
    pub fn rank(&self, j: usize) -> usize {
        self.rank[j]
    }

    /// Number of precedence pairs.
    pub fn n_pairs(&self) -> usize {
        self.before
            .iter()
            .map(|b| b.iter().map(|w| w.count_ones() as usize).sum::<usize>())
            .sum()
    }

    /// Whether the adjacent pair "`first` then `second`", with `second` completing at
    /// `end`, may appear in a schedule that obeys the rule: it may not when exchanging the two
    /// lowers their cost, or keeps it and `second` ranks before `first`.
    pub fn adjacent_allowed(
        &self,
        instance: &Instance,
        first: usize,
        second: usize,
        end: i64,
    ) -> bool {
        let (a, b) = (instance.job(first), instance.job(second));
        let start = end - a.processing_time - b.processing_time;
        let kept = a.cost_at(start + a.processing_time) + b.cost_at(end);
        let exchanged = b.cost_at(start + b.processing_time) + a.cost_at(end);
        kept < exchanged || (kept == exchanged && self.rank[first] < self.rank[second])
    }

    /// Whether three consecutive jobs `a`, `b`, `c`, with `c` completing at `end`, may
    /// appear in that order: they may not when some other order of the three in the same time
    /// span costs less, or the same with fewer inversions of `rank` (the same argument as in
    /// the type's documentation: replacing the three by that order gives an optimal schedule
    /// with fewer inversions), nor when `c` must precede `a`.
    pub fn triple_allowed(
        &self,
        instance: &Instance,
        a: usize,
        b: usize,
        c: usize,
        end: i64,
    ) -> bool {
        if self.must_precede(c, a) {
            return false;
        }
        let start = end
            - instance.job(a).processing_time
            - instance.job(b).processing_time
            - instance.job(c).processing_time;
        let cost = |order: [usize; 3]| {
            let mut time = start;
            let mut sum = 0;
            for j in order {
                let job = instance.job(j);
                time += job.processing_time;
                sum += job.cost_at(time);
            }
            sum
        };
        let inversions = |order: [usize; 3]| {
            let r = order.map(|j| self.rank[j]);
            (r[0] > r[1]) as u8 + (r[0] > r[2]) as u8 + (r[1] > r[2]) as u8
        };
        let given = [a, b, c];
        let (given_cost, given_inversions) = (cost(given), inversions(given));
        for other in [[a, c, b], [b, a, c], [b, c, a], [c, a, b], [c, b, a]] {
            let other_cost = cost(other);
            if other_cost < given_cost
                || (other_cost == given_cost && inversions(other) < given_inversions)
            {
                return false;
            }
        }
        true
    }
}
