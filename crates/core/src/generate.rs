//! Reproducible model generators defined by arithmetic alone, so any language can regenerate
//! an instance bit for bit.

use crate::{MdpBuilder, ModelError};

/// Word `k` of SplitMix64 seeded with `seed` (Steele, Lea & Flood 2014).
#[inline]
pub fn splitmix64(seed: u64, k: u64) -> u64 {
    let mut z = seed.wrapping_add(k.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The "splitmix-sparse v1" random MDP of `shared/data/mdp/README.md`: `n_states` states,
/// `n_actions` actions everywhere, `n_successors` distinct successors per pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SplitMixSparse {
    /// States `N`.
    pub n_states: u32,
    /// Actions `A`.
    pub n_actions: u32,
    /// Distinct successors `B` per pair, `1 ≤ B ≤ 16`, `B ≤ N`.
    pub n_successors: u32,
    /// The seed.
    pub seed: u64,
}

/// Why a generator's parameters are unusable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// Parameters outside the generator's definition.
    #[error("{0}")]
    Parameters(String),
    /// 32 candidates gave fewer than `B` distinct successors.
    #[error(
        "state {state}, action {action}: 32 candidates gave fewer than {needed} distinct successors"
    )]
    TooFewCandidates {
        /// The state.
        state: u32,
        /// The action.
        action: u32,
        /// B.
        needed: u32,
    },
}

impl SplitMixSparse {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), GenerateError> {
        if self.n_states == 0 || self.n_actions == 0 {
            return Err(GenerateError::Parameters(
                "states and actions must be at least 1".into(),
            ));
        }
        if !(1..=16).contains(&self.n_successors) || self.n_successors > self.n_states {
            return Err(GenerateError::Parameters(format!(
                "successors must be in 1..=16 and at most the number of states (got {})",
                self.n_successors
            )));
        }
        Ok(())
    }

    /// The successors, probabilities and rewards of one pair, in acceptance order.
    pub fn pair(
        &self,
        state: u32,
        action: u32,
        out: &mut Vec<(u32, f64, f64)>,
    ) -> Result<(), GenerateError> {
        out.clear();
        let (n, b) = (self.n_states as u64, self.n_successors as usize);
        let k0 = (state as u64 * self.n_actions as u64 + action as u64) * 64;
        let mut successors = [0u32; 16];
        let mut accepted = 0usize;
        for j in 0..32 {
            let c = (splitmix64(self.seed, k0 + j) % n) as u32;
            if !successors[..accepted].contains(&c) {
                successors[accepted] = c;
                accepted += 1;
                if accepted == b {
                    break;
                }
            }
        }
        if accepted < b {
            return Err(GenerateError::TooFewCandidates {
                state,
                action,
                needed: self.n_successors,
            });
        }
        const TWO_POW_M53: f64 = 1.0 / (1u64 << 53) as f64;
        let mut weights = [0.0f64; 16];
        let mut total = 0.0;
        for (i, w) in weights[..b].iter_mut().enumerate() {
            *w = ((splitmix64(self.seed, k0 + 32 + i as u64) >> 11) as f64 + 0.5) * TWO_POW_M53;
            total += *w;
        }
        for i in 0..b {
            let reward = (splitmix64(self.seed, k0 + 48 + i as u64) >> 11) as f64 * TWO_POW_M53;
            out.push((successors[i], weights[i] / total, reward));
        }
        Ok(())
    }

    /// Calls `row(state, action, next, probability, reward)` for every row, in file order.
    pub fn for_each_row(
        &self,
        mut row: impl FnMut(u32, u32, u32, f64, f64) -> Result<(), ModelError>,
    ) -> Result<(), GenerateError> {
        self.validate()?;
        let mut outcomes = Vec::with_capacity(16);
        for s in 0..self.n_states {
            for a in 0..self.n_actions {
                self.pair(s, a, &mut outcomes)?;
                for &(next, p, r) in &outcomes {
                    row(s, a, next, p, r).map_err(|e| GenerateError::Parameters(e.to_string()))?;
                }
            }
        }
        Ok(())
    }

    /// A builder holding the whole model.
    pub fn builder(&self) -> Result<MdpBuilder, GenerateError> {
        let mut b = MdpBuilder::new();
        b.declare_states(self.n_states as u64)
            .and_then(|b| b.declare_actions(self.n_actions as u64))
            .map_err(|e| GenerateError::Parameters(e.to_string()))?;
        b.reserve(self.n_states as usize * self.n_actions as usize * self.n_successors as usize);
        self.for_each_row(|s, a, n, p, r| b.add(s as u64, a as u64, n as u64, p, r))?;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values_of_the_definition() {
        assert_eq!(splitmix64(0, 0), 0xE220A8397B1DCDAF);
        let g = SplitMixSparse {
            n_states: 2000,
            n_actions: 4,
            n_successors: 5,
            seed: 42,
        };
        let mut out = Vec::new();
        g.pair(0, 0, &mut out).unwrap();
        assert_eq!(out[0], (1413, 0.25782429734140166, 0.5048711642726905));
        assert_eq!(out[1], (291, 0.3116374138809268, 0.9693712379675522));
    }
}
