//! Lawler's decomposition for 1||ΣT_j (Lawler, "A pseudopolynomial algorithm for sequencing
//! jobs to minimize total tardiness", Annals of Discrete Mathematics 1 (1977) 331–342).
//!
//! Index the jobs in EDD order (ties: shorter first, then lower index) and let k be the job
//! with the largest processing time (ties: the later in that order). Some optimal sequence
//! puts before k exactly the jobs 1..k+δ other than k, and after k the jobs k+δ+1..n, for some
//! δ ≥ 0. Each side is again a problem of the same kind: the jobs of an EDD index range that
//! are "smaller" than some job, started at a given time. The recursion
//!
//! ```text
//! F(S, t) = min_δ [ F(before_δ, t) + max(0, C_k(δ) − d_k) + F(after_δ, C_k(δ)) ]
//! ```
//!
//! with C_k(δ) = t + p(before_δ) + p_k is memoised on (first index, last index, bounding job,
//! start time). Only the δ with d_{k+δ} ≤ C_k(δ) (for δ > 0) and C_k(δ) < d_{k+δ+1} are tried
//! (Potts & Van Wassenhove 1982; Szwarc 1993): the other positions of k can be improved by
//! moving k past a neighbour. Pseudo-polynomial, O(n⁴ Σp) in the worst case; fast on the
//! Potts–Van Wassenhove classes in practice.

use super::Deadline;
use crate::instance::Instance;
use std::collections::HashMap;

/// An optimal sequence and its total tardiness, or `None` when the jobs have different
/// weights (the decomposition holds for equal weights only; any common weight scales the
/// cost) or the time limit passed first.
pub fn solve(instance: &Instance, time_limit: Option<f64>) -> Option<(Vec<usize>, i64)> {
    solve_until(instance, &Deadline::after(time_limit))
}

pub(crate) fn solve_until(instance: &Instance, deadline: &Deadline) -> Option<(Vec<usize>, i64)> {
    let weight = instance.job(0).weight;
    if instance.jobs().iter().any(|j| j.weight != weight) {
        return None;
    }
    let n = instance.n_jobs();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&j| {
        let job = instance.job(j);
        (job.due_date, job.processing_time, j)
    });
    let p: Vec<i64> = order
        .iter()
        .map(|&j| instance.job(j).processing_time)
        .collect();
    let d: Vec<i64> = order.iter().map(|&j| instance.job(j).due_date).collect();
    let mut solver = Decomposition {
        p,
        d,
        memo: HashMap::new(),
        deadline,
        calls: 0,
        expired: false,
    };
    // The bounding job "n" stands for a job larger than all others.
    let cost = solver.best(0, n, n, 0)?;
    let mut positions = Vec::with_capacity(n);
    solver.sequence(0, n, n, 0, &mut positions);
    let sequence: Vec<usize> = positions.into_iter().map(|r| order[r]).collect();
    Some((sequence, cost * weight))
}

/// Subproblem key: jobs with EDD rank in `first..last` that are smaller than `bound`, started
/// at `start`.
type Key = (u32, u32, u32, i64);

struct Decomposition<'d> {
    /// Processing times and due dates by EDD rank.
    p: Vec<i64>,
    d: Vec<i64>,
    /// Optimal cost and the chosen rank bound ("before" = ranks ≤ split) per subproblem.
    memo: HashMap<Key, (i64, u32)>,
    deadline: &'d Deadline,
    calls: u64,
    expired: bool,
}

impl Decomposition<'_> {
    /// Whether rank `a` is "smaller" than rank `b`: shorter, or equally long and earlier in
    /// EDD order. Rank `n` (one past the last) is larger than every job.
    #[inline]
    fn smaller(&self, a: usize, b: usize) -> bool {
        b >= self.p.len() || (self.p[a], a) < (self.p[b], b)
    }

    /// The members of subproblem (first..last, bound), in EDD order.
    fn members(&self, first: usize, last: usize, bound: usize) -> Vec<usize> {
        (first..last).filter(|&r| self.smaller(r, bound)).collect()
    }

    fn best(&mut self, first: usize, last: usize, bound: usize, start: i64) -> Option<i64> {
        let members = self.members(first, last, bound);
        match members.len() {
            0 => return Some(0),
            1 => return Some((start + self.p[members[0]] - self.d[members[0]]).max(0)),
            _ => {}
        }
        let key = (first as u32, last as u32, bound as u32, start);
        if let Some(&(cost, _)) = self.memo.get(&key) {
            return Some(cost);
        }
        self.calls += 1;
        if self.calls.is_multiple_of(4096) && self.deadline.expired() {
            self.expired = true;
        }
        if self.expired {
            return None;
        }
        // The largest member, and its position among the members.
        let (position, &largest) = members
            .iter()
            .enumerate()
            .max_by(|a, b| {
                if self.smaller(*a.1, *b.1) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            })
            .expect("at least two members");
        let mut best: Option<(i64, u32)> = None;
        // Work of the members before position + δ (excluding the largest job).
        let mut before_work: i64 = members[..position].iter().map(|&r| self.p[r]).sum();
        for delta in 0..members.len() - position {
            let split = members[position + delta];
            if delta > 0 {
                before_work += self.p[split];
            }
            let completion = start + before_work + self.p[largest];
            let after_first = members.get(position + delta + 1).copied();
            if delta > 0 && self.d[split] > completion {
                continue;
            }
            if after_first.is_some_and(|r| completion >= self.d[r]) {
                continue;
            }
            let before = self.best(first, split + 1, largest, start)?;
            let own = (completion - self.d[largest]).max(0);
            let after = self.best(split + 1, last, largest, completion)?;
            let cost = before + own + after;
            if best.is_none_or(|(b, _)| cost < b) {
                best = Some((cost, split as u32));
            }
        }
        // The first δ whose completion time falls below the next member's due date (or the
        // last δ) passes both tests: its predecessor failed the upper one, so this δ's
        // completion time is past the due date of the job it adds. So `best` is set.
        let (cost, split) = best.expect("one δ passes both tests");
        self.memo.insert(key, (cost, split));
        Some(cost)
    }

    /// Appends the EDD ranks of an optimal sequence of a solved subproblem.
    fn sequence(&self, first: usize, last: usize, bound: usize, start: i64, out: &mut Vec<usize>) {
        let members = self.members(first, last, bound);
        match members.len() {
            0 => return,
            1 => {
                out.push(members[0]);
                return;
            }
            _ => {}
        }
        let key = (first as u32, last as u32, bound as u32, start);
        let (_, split) = self.memo[&key];
        let split = split as usize;
        let (_, &largest) = members
            .iter()
            .enumerate()
            .max_by(|a, b| {
                if self.smaller(*a.1, *b.1) {
                    std::cmp::Ordering::Less
                } else {
                    std::cmp::Ordering::Greater
                }
            })
            .expect("at least two members");
        let before_work: i64 = members
            .iter()
            .filter(|&&r| r <= split && r != largest)
            .map(|&r| self.p[r])
            .sum();
        self.sequence(first, split + 1, largest, start, out);
        out.push(largest);
        let completion = start + before_work + self.p[largest];
        self.sequence(split + 1, last, largest, completion, out);
    }
}
