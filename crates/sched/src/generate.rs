//! Reproducible Potts & Van Wassenhove instances, exactly as decide's reference data for
//! 1||ΣT_j was generated (`shared/data/sched/smtt/README.md`), so any instance of that data
//! set, including the held-back ones, can be rebuilt bit for bit.
//!
//! Random numbers come from Taillard's Lehmer generator (multiplier 16807, modulus 2^31 − 1,
//! stepped with Schrage's trick). p_j is drawn from [1, 100]; with P = Σp, TF = t/10 and
//! RDD = r/10, the due dates are drawn from [⌊P(20 − 2t − r)/20⌋, ⌊P(20 − 2t + r)/20⌋] and
//! negative ones are replaced by 0 (as in the OR-Library files).

use crate::instance::{Instance, Job};

/// Taillard's portable Lehmer generator (Taillard 1993, "Benchmarks for basic scheduling
/// problems").
#[derive(Clone, Debug)]
pub struct TaillardRandom {
    seed: i64,
}

impl TaillardRandom {
    const MODULUS: i64 = 2_147_483_647;

    /// A generator started at `seed` (taken modulo 2^31 − 1; 0 becomes 1).
    pub fn new(seed: i64) -> Self {
        let seed = seed.rem_euclid(Self::MODULUS);
        TaillardRandom {
            seed: if seed == 0 { 1 } else { seed },
        }
    }

    /// Steps the generator and returns a uniform integer in `[low, high]`:
    /// low + ⌊seed / m · (high − low + 1)⌋ in double precision.
    pub fn draw(&mut self, low: i64, high: i64) -> i64 {
        const A: i64 = 16_807;
        const B: i64 = 127_773;
        const C: i64 = 2_836;
        let k = self.seed / B;
        self.seed = A * (self.seed % B) - k * C;
        if self.seed < 0 {
            self.seed += Self::MODULUS;
        }
        let value = self.seed as f64 / Self::MODULUS as f64;
        low + (value * (high - low + 1) as f64).floor() as i64
    }
}

/// The levels of tardiness factor and relative due-date range: index 0..=4 stands for
/// 0.2, 0.4, 0.6, 0.8, 1.0.
pub const LEVELS: [f64; 5] = [0.2, 0.4, 0.6, 0.8, 1.0];

/// One generated instance and how it was made.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratedInstance {
    /// `smtt_n{n}_rdd{RDD}_tf{TF}_{rep+1}`, the reference data's naming.
    pub name: String,
    /// The seed: n · 100000 + (5 · rdd_index + tf_index) · 100 + rep + 1.
    pub seed: i64,
    /// Relative range of due dates.
    pub rdd: f64,
    /// Tardiness factor.
    pub tf: f64,
    /// The jobs (weights 1, or drawn from [1, 10] when asked for).
    pub instance: Instance,
}

/// The instance `rep` (from 0) of class (`rdd_index`, `tf_index`) with `n` jobs, as in the
/// reference data. With `weighted`, weights are drawn from [1, 10] after the due dates (the
/// OR-Library range; an extension of ours, not part of the reference data).
///
/// # Panics
/// If `n` is 0 or a level index exceeds 4.
pub fn potts_van_wassenhove(
    n: usize,
    rdd_index: usize,
    tf_index: usize,
    rep: usize,
    weighted: bool,
) -> GeneratedInstance {
    assert!(n > 0 && rdd_index < 5 && tf_index < 5);
    let pair = 5 * rdd_index + tf_index;
    let seed = n as i64 * 100_000 + pair as i64 * 100 + rep as i64 + 1;
    let mut random = TaillardRandom::new(seed);
    let p: Vec<i64> = (0..n).map(|_| random.draw(1, 100)).collect();
    let total: i64 = p.iter().sum();
    let (t, r) = (2 * (tf_index as i64 + 1), 2 * (rdd_index as i64 + 1));
    let low = (total * (20 - 2 * t - r)).div_euclid(20);
    let high = (total * (20 - 2 * t + r)).div_euclid(20);
    let d: Vec<i64> = (0..n).map(|_| random.draw(low, high).max(0)).collect();
    let w: Vec<i64> = if weighted {
        (0..n).map(|_| random.draw(1, 10)).collect()
    } else {
        vec![1; n]
    };
    let jobs = (0..n).map(|j| Job::new(p[j], d[j], w[j])).collect();
    GeneratedInstance {
        name: format!(
            "smtt_n{n}_rdd{:.1}_tf{:.1}_{}",
            LEVELS[rdd_index],
            LEVELS[tf_index],
            rep + 1
        ),
        seed,
        rdd: LEVELS[rdd_index],
        tf: LEVELS[tf_index],
        instance: Instance::try_new(jobs).expect("generated jobs are valid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_reference_check_values() {
        // The smtt README's check values for the first instance of each file.
        let first = potts_van_wassenhove(20, 0, 0, 0, false);
        assert_eq!(first.name, "smtt_n20_rdd0.2_tf0.2_1");
        // Levels print with one decimal, as in the reference files ("1.0", not "1").
        assert_eq!(
            potts_van_wassenhove(20, 4, 4, 1, false).name,
            "smtt_n20_rdd1.0_tf1.0_2"
        );
        assert_eq!(first.seed, 2_000_001);
        let jobs = &first.instance.jobs()[..5];
        assert_eq!(
            jobs.iter().map(|j| j.processing_time).collect::<Vec<_>>(),
            [66, 71, 40, 73, 1]
        );
        assert_eq!(
            jobs.iter().map(|j| j.due_date).collect::<Vec<_>>(),
            [747, 697, 845, 854, 797]
        );
        let first = potts_van_wassenhove(50, 0, 0, 0, false);
        let jobs = &first.instance.jobs()[..5];
        assert_eq!(
            jobs.iter().map(|j| j.processing_time).collect::<Vec<_>>(),
            [14, 8, 37, 12, 72]
        );
        assert_eq!(
            jobs.iter().map(|j| j.due_date).collect::<Vec<_>>(),
            [1907, 1745, 1792, 1825, 1723]
        );
    }
}
