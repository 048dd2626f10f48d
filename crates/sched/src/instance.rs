//! Jobs, instances, and the total (weighted) tardiness of a sequence.

use std::fmt;

/// One job of a single-machine problem. All jobs are available at time 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Job {
    /// Processing time p_j, at least 1.
    pub processing_time: i64,
    /// Due date d_j; negative due dates are legal (the job is late whatever happens).
    pub due_date: i64,
    /// Weight w_j ≥ 0 of the job's tardiness; 1 in the unweighted problem 1||ΣT_j.
    pub weight: i64,
}

impl Job {
    /// A job with processing time `p`, due date `d` and weight `w`.
    pub fn new(processing_time: i64, due_date: i64, weight: i64) -> Self {
        Job {
            processing_time,
            due_date,
            weight,
        }
    }

    /// w_j · max(0, C − d_j): what this job costs when it completes at `completion`.
    #[inline]
    pub fn cost_at(&self, completion: i64) -> i64 {
        self.weight * (completion - self.due_date).max(0)
    }
}

/// Which sum the schedule minimises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Objective {
    /// 1||ΣT_j: every weight is taken as 1, whatever the input says.
    Tardiness,
    /// 1||Σw_jT_j: the weights of the input.
    #[default]
    WeightedTardiness,
}

impl Objective {
    /// The spelling used on the command line and in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Objective::Tardiness => "tardiness",
            Objective::WeightedTardiness => "weighted-tardiness",
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Objective {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "tardiness" | "total-tardiness" => Ok(Objective::Tardiness),
            "weighted-tardiness" | "total-weighted-tardiness" => Ok(Objective::WeightedTardiness),
            other => Err(format!(
                "unknown objective {other:?} (expected tardiness or weighted-tardiness)"
            )),
        }
    }
}

/// Why a list of jobs is not an instance.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// The list is empty.
    #[error("an instance needs at least one job")]
    NoJobs,
    /// A processing time is zero or negative.
    #[error("job {job}: processing time {value} is not positive")]
    NonPositiveProcessingTime {
        /// 0-based job index.
        job: usize,
        /// The value found.
        value: i64,
    },
    /// A weight is negative.
    #[error("job {job}: weight {value} is negative")]
    NegativeWeight {
        /// 0-based job index.
        job: usize,
        /// The value found.
        value: i64,
    },
    /// The numbers are so large that a schedule's cost could overflow 64-bit integers.
    #[error("the numbers are too large: {0}")]
    TooLarge(&'static str),
}

/// Largest processing time, due date magnitude or weight accepted, so that every cost and
/// every time fits comfortably in an `i64` (see [`Instance::try_new`]).
pub const MAX_MAGNITUDE: i64 = 1 << 40;

/// A validated single-machine instance: jobs `0..n`, processed without idle time from 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance {
    jobs: Vec<Job>,
    total_processing_time: i64,
}

impl Instance {
    /// Checks the jobs: at least one, processing times ≥ 1, weights ≥ 0, and magnitudes
    /// small enough that Σw_j · (Σp + max|d_j|) fits in an `i64`, so no cost computed
    /// anywhere in this crate can overflow.
    pub fn try_new(jobs: Vec<Job>) -> Result<Self, InstanceError> {
        if jobs.is_empty() {
            return Err(InstanceError::NoJobs);
        }
        let mut total_p: i128 = 0;
        let mut total_w: i128 = 0;
        let mut max_due: i128 = 0;
        for (job, j) in jobs.iter().enumerate() {
            if j.processing_time <= 0 {
                return Err(InstanceError::NonPositiveProcessingTime {
                    job,
                    value: j.processing_time,
                });
            }
            if j.weight < 0 {
                return Err(InstanceError::NegativeWeight {
                    job,
                    value: j.weight,
                });
            }
            if j.processing_time > MAX_MAGNITUDE
                || j.weight > MAX_MAGNITUDE
                || j.due_date.unsigned_abs() > MAX_MAGNITUDE as u64
            {
                return Err(InstanceError::TooLarge(
                    "processing times, weights and |due dates| must be at most 2^40",
                ));
            }
            total_p += j.processing_time as i128;
            total_w += j.weight as i128;
            max_due = max_due.max(j.due_date.unsigned_abs() as i128);
        }
        if total_p > MAX_MAGNITUDE as i128
            || total_w.saturating_mul(total_p + max_due) > (i64::MAX / 4) as i128
        {
            return Err(InstanceError::TooLarge(
                "the sum of weights times the schedule length must stay below 2^61",
            ));
        }
        Ok(Instance {
            jobs,
            total_processing_time: total_p as i64,
        })
    }

    /// The unweighted problem from triples `(p, d)`.
    pub fn from_processing_and_due(
        processing_times: &[i64],
        due_dates: &[i64],
    ) -> Result<Self, InstanceError> {
        Self::try_new(
            processing_times
                .iter()
                .zip(due_dates)
                .map(|(&p, &d)| Job::new(p, d, 1))
                .collect(),
        )
    }

    /// The jobs, in input order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// Job `j`.
    #[inline]
    pub fn job(&self, j: usize) -> &Job {
        &self.jobs[j]
    }

    /// Number of jobs n.
    pub fn n_jobs(&self) -> usize {
        self.jobs.len()
    }

    /// Σp_j: the completion time of the last job of every sequence.
    pub fn total_processing_time(&self) -> i64 {
        self.total_processing_time
    }

    /// Whether every weight is 1 (the problem is 1||ΣT_j).
    pub fn is_unweighted(&self) -> bool {
        self.jobs.iter().all(|j| j.weight == 1)
    }

    /// This instance for `objective`: with [`Objective::Tardiness`] every weight becomes 1.
    pub fn for_objective(&self, objective: Objective) -> Instance {
        match objective {
            Objective::WeightedTardiness => self.clone(),
            Objective::Tardiness => Instance {
                jobs: self
                    .jobs
                    .iter()
                    .map(|j| Job::new(j.processing_time, j.due_date, 1))
                    .collect(),
                total_processing_time: self.total_processing_time,
            },
        }
    }

    /// Σ w_j max(0, C_j − d_j) of `sequence` processed from time 0 without idle time.
    ///
    /// `sequence` should be a permutation of `0..n` (see [`Instance::is_permutation`]); the
    /// sum is taken over the jobs as listed, so a partial sequence gives the cost of that
    /// prefix schedule.
    pub fn objective(&self, sequence: &[usize]) -> i64 {
        let mut time = 0;
        let mut cost = 0;
        for &j in sequence {
            let job = &self.jobs[j];
            time += job.processing_time;
            cost += job.cost_at(time);
        }
        cost
    }

    /// Whether `sequence` lists every job `0..n` exactly once.
    pub fn is_permutation(&self, sequence: &[usize]) -> bool {
        let n = self.jobs.len();
        if sequence.len() != n {
            return false;
        }
        let mut seen = vec![false; n];
        for &j in sequence {
            if j >= n || seen[j] {
                return false;
            }
            seen[j] = true;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objective_counts_tardiness_from_real_completion_times() {
        // Negative due dates are legal: the job is late by its whole completion time plus |d|.
        let instance = Instance::try_new(vec![
            Job::new(3, 2, 2),
            Job::new(2, -1, 1),
            Job::new(4, 20, 5),
        ])
        .unwrap();
        // Order 0,1,2: C = 3, 5, 9 → 2·1 + 1·6 + 0 = 8.
        assert_eq!(instance.objective(&[0, 1, 2]), 8);
        // Order 1,0,2: C = 2, 5, 9 → 1·3 + 2·3 + 0 = 9.
        assert_eq!(instance.objective(&[1, 0, 2]), 9);
        assert!(instance.is_permutation(&[2, 0, 1]));
        assert!(!instance.is_permutation(&[2, 2, 1]));
        assert!(!instance.is_permutation(&[0, 1]));
        assert_eq!(
            instance
                .for_objective(Objective::Tardiness)
                .objective(&[0, 1, 2]),
            1 + 6
        );
    }

    #[test]
    fn invalid_jobs_are_rejected() {
        assert_eq!(Instance::try_new(vec![]), Err(InstanceError::NoJobs));
        assert_eq!(
            Instance::try_new(vec![Job::new(1, 0, 1), Job::new(0, 0, 1)]),
            Err(InstanceError::NonPositiveProcessingTime { job: 1, value: 0 })
        );
        assert_eq!(
            Instance::try_new(vec![Job::new(1, 0, -1)]),
            Err(InstanceError::NegativeWeight { job: 0, value: -1 })
        );
        assert!(matches!(
            Instance::try_new(vec![Job::new(1 << 41, 0, 1)]),
            Err(InstanceError::TooLarge(_))
        ));
        assert!(matches!(
            Instance::try_new(vec![Job::new(1 << 39, 0, 1 << 30); 4]),
            Err(InstanceError::TooLarge(_))
        ));
    }
}
