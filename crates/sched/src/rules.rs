//! Constructive dispatching rules for 1||ΣT_j and 1||Σw_jT_j.
//!
//! The classic rules (EDD, SPT, MDD of Baker & Bertrand 1982, ATC of Vepsalainen & Morton
//! 1987, PSK of Panwalkar, Smith & Koulamas 1993, Panneerselvam 2006) and the two rules that
//! Çetinkaya, Büyüktahtakın, Shojaee & Reddy (arXiv 2510.24013, 2025) discovered with an LLM:
//! the EDD Challenger ([`eddc`]) and the MDD Challenger ([`mddc`]).
//!
//! Where the paper's pseudocode and the authors' evaluation notebook
//! (`testing/heuristics_comparison.ipynb` of `ibrahimoguzc/DiscoverHeuristics`) disagree, the
//! code here follows the notebook, because the notebook produced the paper's tables; each such
//! place says so. Ties are broken explicitly (never by an unstable sort), as each rule states.
//!
//! All rules except ATC ignore weights: they are rules for 1||ΣT_j and are used unchanged as
//! starting points for the weighted problem.

use crate::instance::Instance;

/// Earliest due date first; ties by shorter processing time, then lower index.
///
/// The authors' `argsort(d)` leaves ties to an unstable sort; the digest of the paper fixes
/// them as here so results are reproducible.
pub fn edd(instance: &Instance) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instance.n_jobs()).collect();
    order.sort_by_key(|&j| {
        let job = instance.job(j);
        (job.due_date, job.processing_time, j)
    });
    order
}

/// Shortest processing time first; ties by earlier due date, then lower index.
pub fn spt(instance: &Instance) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instance.n_jobs()).collect();
    order.sort_by_key(|&j| {
        let job = instance.job(j);
        (job.processing_time, job.due_date, j)
    });
    order
}

/// Modified due date rule (Baker & Bertrand 1982): at time t append the unscheduled job with
/// the smallest max(t + p_j, d_j); ties go to the lowest index, as in the authors' code,
/// which keeps the unscheduled jobs in index order and takes `argmin`.
pub fn mdd(instance: &Instance) -> Vec<usize> {
    let mut unscheduled: Vec<usize> = (0..instance.n_jobs()).collect();
    let mut sequence = Vec::with_capacity(unscheduled.len());
    let mut time = 0i64;
    while !unscheduled.is_empty() {
        let mut best = 0;
        let mut best_value = i64::MAX;
        for (position, &j) in unscheduled.iter().enumerate() {
            let job = instance.job(j);
            let value = (time + job.processing_time).max(job.due_date);
            if value < best_value {
                best_value = value;
                best = position;
            }
        }
        let j = unscheduled.remove(best);
        time += instance.job(j).processing_time;
        sequence.push(j);
    }
    sequence
}

/// The look-ahead parameter k of ATC used when none is given; Vepsalainen & Morton found
/// values between 1.5 and 4.5 best, and 2 is the usual textbook choice (Pinedo).
pub const DEFAULT_ATC_LOOKAHEAD: f64 = 2.0;

/// Apparent tardiness cost (Vepsalainen & Morton 1987): at time t append the unscheduled job
/// with the largest index (w_j / p_j) · exp(−max(d_j − p_j − t, 0) / (k · p̄)), where p̄ is
/// the mean processing time of the unscheduled jobs and k is `lookahead`. Ties go to the lowest
/// index.
///
/// The index is compared through its logarithm, ln(w_j/p_j) − slack_j/(k p̄): the exponential
/// underflows to 0 for jobs with a large slack, which would turn the rule into index order.
/// A job of weight 0 has index 0 (logarithm −∞) and goes last. `lookahead` must be positive.
pub fn atc(instance: &Instance, lookahead: f64) -> Vec<usize> {
    assert!(
        lookahead > 0.0,
        "the ATC look-ahead parameter must be positive"
    );
    let mut unscheduled: Vec<usize> = (0..instance.n_jobs()).collect();
    let mut sequence = Vec::with_capacity(unscheduled.len());
    let mut time = 0i64;
    let mut remaining_p: i64 = instance.total_processing_time();
    while !unscheduled.is_empty() {
        let mean_p = remaining_p as f64 / unscheduled.len() as f64;
        let mut best = 0;
        let mut best_value = f64::NEG_INFINITY;
        for (position, &j) in unscheduled.iter().enumerate() {
            let job = instance.job(j);
            let slack = (job.due_date - job.processing_time - time).max(0) as f64;
            let value = if job.weight == 0 {
                f64::NEG_INFINITY
            } else {
                (job.weight as f64 / job.processing_time as f64).ln() - slack / (lookahead * mean_p)
            };
            if value > best_value {
                best_value = value;
                best = position;
            }
        }
        let j = unscheduled.remove(best);
        let p = instance.job(j).processing_time;
        time += p;
        remaining_p -= p;
        sequence.push(j);
    }
    sequence
}

/// The starting order of [`eddc_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EddcInitialOrder {
    /// By processing time, ties by due date, then index: the authors' code
    /// (`np.lexsort((d, p))` makes p the primary key). This produced the paper's tables.
    #[default]
    ProcessingTimeFirst,
    /// By due date, ties by processing time, then index: what the paper's text says
    /// ("sorted lexicographically on d and p, like EDD").
    DueDateFirst,
}

/// EDD Challenger (Çetinkaya et al. 2025), as the authors coded it: see [`eddc_with`].
pub fn eddc(instance: &Instance) -> Vec<usize> {
    eddc_with(instance, EddcInitialOrder::ProcessingTimeFirst)
}

/// EDD Challenger with a chosen starting order.
///
/// An insertion sort towards EDD in which an adjacent swap is allowed only when the earlier
/// job still finishes strictly before its due date. For i = 1..n−1, with j := i: while j > 0
/// and d[S[j]] < d[S[j−1]], let A be the completion time of the job at position j−1 (the sum of
/// p over positions 0..j−1); swap positions j−1 and j when d[S[j−1]] > A; then j := j − 1 *in
/// every case*, so after a refused swap the comparison moves on to the pair further left, which
/// no longer involves the job being inserted. That is the authors' code; the paper's
/// Algorithm 1 has an extra guard "j = |S|" that the code does not have.
///
/// A is kept as a running sum: moving from position j to j−1 subtracts the processing time of
/// the job now at position j−1 (after the possible swap), so the pass is O(n²).
pub fn eddc_with(instance: &Instance, initial: EddcInitialOrder) -> Vec<usize> {
    let mut order: Vec<usize> = (0..instance.n_jobs()).collect();
    match initial {
        EddcInitialOrder::ProcessingTimeFirst => order.sort_by_key(|&j| {
            let job = instance.job(j);
            (job.processing_time, job.due_date, j)
        }),
        EddcInitialOrder::DueDateFirst => order.sort_by_key(|&j| {
            let job = instance.job(j);
            (job.due_date, job.processing_time, j)
        }),
    }
    let p = |j: usize| instance.job(j).processing_time;
    let d = |j: usize| instance.job(j).due_date;
    // Σ p over positions 0..i. Inserting position i only permutes positions 0..=i, so the
    // jobs in positions 0..i are always the first i jobs of the starting order.
    let mut prefix_before_i: i64 = order.first().map_or(0, |&j| p(j));
    for i in 1..order.len() {
        let inserted = order[i]; // positions ≥ i are still in the starting order
        let mut j = i;
        // Σ p over positions 0..j: the completion time of the job at position j − 1.
        let mut completion_before_j = prefix_before_i;
        while j > 0 && d(order[j]) < d(order[j - 1]) {
            let at_previous = order[j - 1];
            if d(at_previous) > completion_before_j {
                order.swap(j - 1, j);
            }
            // Positions 0..j−1 are untouched by the swap at (j−1, j).
            completion_before_j -= p(at_previous);
            j -= 1;
        }
        prefix_before_i += p(inserted);
    }
    order
}

/// MDD Challenger (Çetinkaya et al. 2025), as the authors coded it.
///
/// The unscheduled jobs are kept sorted by due date, ties by processing time, then index
/// (the code's `lexsort((p, d))`; the paper's text says SPT). At time t, with P_max and P_avg
/// the largest and mean processing time of the unscheduled jobs, every unscheduled job gets
///
/// ```text
/// mu    = max(1.1 p_j + t, d_j)
/// rho   = min(p_j / (t + P_max), 1)
/// mu    = mu · (1 + rho² / (1 + rho²))
/// score = mu + p_j / (t + P_avg)
/// ```
///
/// and the first job (in that order) with the strictly smallest score is appended. The
/// arithmetic is done in `f64` in the same order as the authors' numpy code.
pub fn mddc(instance: &Instance) -> Vec<usize> {
    let mut unscheduled: Vec<usize> = (0..instance.n_jobs()).collect();
    unscheduled.sort_by_key(|&j| {
        let job = instance.job(j);
        (job.due_date, job.processing_time, j)
    });
    let mut sequence = Vec::with_capacity(unscheduled.len());
    let mut time = 0i64;
    let mut remaining_p = instance.total_processing_time();
    while !unscheduled.is_empty() {
        let max_p = unscheduled
            .iter()
            .map(|&j| instance.job(j).processing_time)
            .max()
            .unwrap_or(0);
        let mean_p = remaining_p as f64 / unscheduled.len() as f64;
        let t = time as f64;
        let mut best = 0;
        let mut best_score = f64::INFINITY;
        for (position, &j) in unscheduled.iter().enumerate() {
            let job = instance.job(j);
            let p = job.processing_time as f64;
            let mut mu = (p * 1.1 + t).max(job.due_date as f64);
            let rho = (p / (t + max_p as f64)).min(1.0);
            let theta = (rho * rho) / (1.0 + rho * rho);
            mu *= 1.0 + theta;
            let score = mu + p / (t + mean_p);
            if score < best_score {
                best_score = score;
                best = position;
            }
        }
        let j = unscheduled.remove(best);
        let p = instance.job(j).processing_time;
        time += p;
        remaining_p -= p;
        sequence.push(j);
    }
    sequence
}

/// Augmented MDD (Bean & Hall 1985, as the authors implemented it): [`mdd`] followed, after
/// every append, by [`move_to_end_step`].
pub fn augmented_mdd(instance: &Instance) -> Vec<usize> {
    augmented(instance, mdd(instance))
}

/// Augmented MDDC: [`mddc`] with the same "move to end" step as [`augmented_mdd`].
pub fn augmented_mddc(instance: &Instance) -> Vec<usize> {
    augmented(instance, mddc(instance))
}

/// Replays a construction: the rule's choice of the next job does not depend on where earlier
/// jobs sit (MDD and MDDC look only at the time t and the unscheduled set, both unchanged by
/// moving a scheduled job within the partial sequence), so the augmented rule is the rule's
/// order with the move step applied after each append.
fn augmented(instance: &Instance, construction: Vec<usize>) -> Vec<usize> {
    let mut partial = Vec::with_capacity(construction.len());
    for j in construction {
        partial.push(j);
        move_to_end_step(instance, &mut partial);
    }
    partial
}

/// One best-improvement "move a job to the end" step on a partial sequence S (Bean & Hall's
/// augmentation as the authors coded it): try moving S[i] to the end for i = 0..|S|−2, every
/// trial built from the unmoved S and scored by the cost of the *partial* sequence alone; keep
/// the first best trial if it is strictly better than S. Returns whether S changed.
pub fn move_to_end_step(instance: &Instance, partial: &mut Vec<usize>) -> bool {
    let len = partial.len();
    if len < 2 {
        return false;
    }
    let current = instance.objective(partial);
    let end = partial
        .iter()
        .map(|&j| instance.job(j).processing_time)
        .sum::<i64>();
    let mut best_cost = current;
    let mut best_i = None;
    // Moving S[i] to the end: the jobs after i complete p_{S[i]} earlier, S[i] completes at
    // the end of the partial schedule, and the jobs before i do not move.
    let mut completion_before = 0i64;
    let mut cost_before = 0i64;
    for i in 0..len - 1 {
        let moved = instance.job(partial[i]);
        let mut time = completion_before;
        let mut cost = cost_before;
        for &k in &partial[i + 1..] {
            let job = instance.job(k);
            time += job.processing_time;
            cost += job.cost_at(time);
        }
        cost += moved.cost_at(end);
        if cost < best_cost {
            best_cost = cost;
            best_i = Some(i);
        }
        completion_before += moved.processing_time;
        cost_before += moved.cost_at(completion_before);
    }
    match best_i {
        Some(i) => {
            let j = partial.remove(i);
            partial.push(j);
            true
        }
        None => false,
    }
}

/// PSK (Panwalkar, Smith & Koulamas 1993) as the authors coded it, indices mapped back to the
/// input's job numbers.
///
/// The jobs are taken in SPT order (ties by due date, then index). With the active job i (the
/// first unscheduled one) and the current time C: (1) if i is the only job left, schedule it;
/// (2) if C + p_i ≥ d_i, schedule i; (3) otherwise scan the following unscheduled jobs j in
/// order: (a) if d_i ≤ C + p_j schedule i; (b) else if d_i ≤ d_j continue the scan, but
/// schedule i if j is the last one; (c) else j becomes the active job, scheduled at once if it
/// is the last one. Each pass schedules one job.
pub fn psk(instance: &Instance) -> Vec<usize> {
    let mut unscheduled = spt(instance);
    let p = |j: usize| instance.job(j).processing_time;
    let d = |j: usize| instance.job(j).due_date;
    let mut sequence = Vec::with_capacity(unscheduled.len());
    let mut time = 0i64;
    while !unscheduled.is_empty() {
        let mut active = 0; // position in `unscheduled`
        let last = unscheduled.len() - 1;
        let i = unscheduled[active];
        if last == 0 || time + p(i) >= d(i) {
            // Steps 1 and 2.
        } else {
            for position in 1..=last {
                let i = unscheduled[active];
                let j = unscheduled[position];
                if d(i) <= time + p(j) {
                    break; // step (a): schedule the active job
                }
                if d(i) <= d(j) {
                    continue; // step (b); at the last job the loop ends with i active
                }
                active = position; // step (c)
            }
        }
        let chosen = unscheduled.remove(active);
        time += p(chosen);
        sequence.push(chosen);
    }
    sequence
}

/// Panneerselvam (2006), as the authors coded it: repeatedly append the unscheduled job with
/// the largest (SUMT − d_j)/p_j, SUMT being the total processing time of the unscheduled
/// jobs; ties go to the *highest* index (Python's `max` over `(value, index)` pairs). The
/// paper's worst rule, kept for completeness of its comparison.
pub fn panneerselvam(instance: &Instance) -> Vec<usize> {
    let n = instance.n_jobs();
    let mut scheduled = vec![false; n];
    let mut sequence = Vec::with_capacity(n);
    let mut remaining_p = instance.total_processing_time();
    for _ in 0..n {
        let mut best: Option<(f64, usize)> = None;
        for j in (0..n).filter(|&j| !scheduled[j]) {
            let job = instance.job(j);
            let value = (remaining_p - job.due_date) as f64 / job.processing_time as f64;
            if best.is_none_or(|(b, _)| value >= b) {
                best = Some((value, j));
            }
        }
        let (_, j) = best.expect("an unscheduled job remains");
        scheduled[j] = true;
        remaining_p -= instance.job(j).processing_time;
        sequence.push(j);
    }
    sequence
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paper's worked example (digest §9.1, checked there by brute force over all 720
    /// orders): p = [10, 11, 10, 10, 11, 10], d = [15, 11, 13, 11, 12, 11].
    fn six_jobs() -> Instance {
        Instance::from_processing_and_due(&[10, 11, 10, 10, 11, 10], &[15, 11, 13, 11, 12, 11])
            .unwrap()
    }

    /// The digest's second case (§9.2): OPT 34, EDD 35, MDD 34, MDDC 34.
    fn eight_jobs() -> Instance {
        Instance::from_processing_and_due(&[3, 5, 2, 7, 4, 6, 1, 8], &[10, 6, 4, 20, 9, 15, 3, 25])
            .unwrap()
    }

    #[test]
    fn worked_example_six_jobs() {
        let instance = six_jobs();
        assert_eq!(mdd(&instance), vec![1, 0, 2, 3, 5, 4]);
        assert_eq!(instance.objective(&mdd(&instance)), 144);
        assert_eq!(mddc(&instance), vec![3, 5, 2, 0, 1, 4]);
        assert_eq!(instance.objective(&mddc(&instance)), 141);
        // Jobs 1, 3 and 5 share d = 11. The digest's §9.1 figure, EDD with ties by index,
        // is [1, 3, 5, 4, 2, 0] with ΣT = 146; decide breaks the tie by shorter processing
        // time first (digest §2), which puts job 1 (p = 11) after jobs 3 and 5 and saves 1.
        let mut by_index: Vec<usize> = (0..6).collect();
        by_index.sort_by_key(|&j| (instance.job(j).due_date, j));
        assert_eq!(by_index, vec![1, 3, 5, 4, 2, 0]);
        assert_eq!(instance.objective(&by_index), 146);
        assert_eq!(edd(&instance), vec![3, 5, 1, 4, 2, 0]);
        assert_eq!(instance.objective(&edd(&instance)), 145);
        assert_eq!(eddc(&instance), vec![3, 5, 2, 0, 1, 4]);
        assert_eq!(instance.objective(&eddc(&instance)), 141);
    }

    #[test]
    fn worked_example_eight_jobs() {
        let instance = eight_jobs();
        assert_eq!(instance.objective(&edd(&instance)), 35);
        assert_eq!(instance.objective(&mdd(&instance)), 34);
        assert_eq!(instance.objective(&mddc(&instance)), 34);
    }

    #[test]
    fn eddc_refused_swap_moves_on_to_the_left() {
        // SPT order is 0 (p1,d10), 1 (p2,d1), 2 (p3,d0). Inserting job 2: d0 < d1 but job 1
        // completes at 3 ≥ its due date 1, so no swap; j moves left and compares jobs 0 and 1:
        // d1 < d10 and job 0 completes at 1 < 10, so they swap, giving [1, 0, 2].
        let instance = Instance::from_processing_and_due(&[1, 2, 3], &[10, 1, 0]).unwrap();
        // i = 1 first: d1 < d10 and job 0 finishes at 1 < 10: swap → [1, 0, 2].
        // i = 2: d0 < d10 and job 0 finishes at 3 < 10: swap → [1, 2, 0]; then d0 < d1 but
        // job 1 finishes at 2 > 1: refused.
        assert_eq!(eddc(&instance), vec![1, 2, 0]);
        assert_eq!(
            eddc_with(&instance, EddcInitialOrder::DueDateFirst),
            vec![2, 1, 0]
        );
    }

    #[test]
    fn move_to_end_needs_strict_improvement() {
        // Two identical on-time jobs: moving either to the end changes nothing, so no move.
        let instance = Instance::from_processing_and_due(&[2, 2], &[10, 10]).unwrap();
        let mut partial = vec![0, 1];
        assert!(!move_to_end_step(&instance, &mut partial));
        assert_eq!(partial, vec![0, 1]);
        // A long early job in front of an urgent one: moving it to the end helps.
        let instance = Instance::from_processing_and_due(&[5, 1], &[20, 1]).unwrap();
        let mut partial = vec![0, 1];
        assert!(move_to_end_step(&instance, &mut partial));
        assert_eq!(partial, vec![1, 0]);
    }

    #[test]
    fn atc_prefers_heavy_short_urgent_jobs() {
        let instance = Instance::try_new(vec![
            crate::Job::new(10, 100, 1),
            crate::Job::new(10, 0, 1),
            crate::Job::new(10, 0, 5),
        ])
        .unwrap();
        assert_eq!(atc(&instance, 2.0), vec![2, 1, 0]);
    }
}
