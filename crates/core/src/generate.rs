//! Reproducible model generators defined by arithmetic alone, so any language can regenerate
//! an instance bit for bit.
//!
//! | generator | what | mixing |
//! |---|---|---|
//! | [`SplitMixSparse`] | random sparse MDP of `shared/data/mdp/README.md` | fast |
//! | [`Gridworld`] | slippery grid, −1 per step until an absorbing goal in the far corner | slow: discount 0.99 bites |
//! | [`Forest`] | pymdptoolbox's `mdptoolbox.example.forest` | — |
//!
//! Each lists its outcomes pair by pair ([`PairGenerator`]), in the order a CSV file of it
//! has them; [`compile`] turns them into a [`TabularMdp`] without going through the row
//! builder (8 bytes less per transition with `outcome_rewards = false`).

use crate::model::{RawParts, RawPartsError};
use crate::{MdpBuilder, ModelError, TabularMdp, ValidationOptions};

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

/// A generator that lists a model's outcomes pair by pair: every state has every action.
pub trait PairGenerator {
    /// Number of states.
    fn n_states(&self) -> u32;
    /// Number of actions (every state has all of them).
    fn n_actions(&self) -> u32;
    /// Most outcomes of one pair.
    fn max_outcomes(&self) -> usize;
    /// Checks the parameters.
    fn validate(&self) -> Result<(), GenerateError>;
    /// The outcomes `(next, probability, reward)` of pair `(state, action)`, in file order,
    /// each `next` once.
    fn outcomes(
        &self,
        state: u32,
        action: u32,
        out: &mut Vec<(u32, f64, f64)>,
    ) -> Result<(), GenerateError>;
}

impl PairGenerator for SplitMixSparse {
    fn n_states(&self) -> u32 {
        self.n_states
    }
    fn n_actions(&self) -> u32 {
        self.n_actions
    }
    fn max_outcomes(&self) -> usize {
        self.n_successors as usize
    }
    fn validate(&self) -> Result<(), GenerateError> {
        SplitMixSparse::validate(self)
    }
    fn outcomes(
        &self,
        state: u32,
        action: u32,
        out: &mut Vec<(u32, f64, f64)>,
    ) -> Result<(), GenerateError> {
        self.pair(state, action, out)
    }
}

/// The compiled model of a generator, built directly (no row builder), checked by
/// [`TabularMdp::from_raw_parts`]. With `outcome_rewards = false` only the expected rewards
/// `r(s,a)` are kept, which is all solving needs (8 bytes less per transition).
pub fn compile(
    generator: &impl PairGenerator,
    outcome_rewards: bool,
) -> Result<TabularMdp, GenerateError> {
    generator.validate()?;
    let (n, a) = (
        generator.n_states() as usize,
        generator.n_actions() as usize,
    );
    let pairs = n
        .checked_mul(a)
        .ok_or_else(|| GenerateError::Parameters("too many pairs".into()))?;
    let capacity = pairs.saturating_mul(generator.max_outcomes());
    let mut state_pairs = Vec::with_capacity(n + 1);
    let mut pair_action = Vec::with_capacity(pairs);
    let mut pair_outcomes = Vec::with_capacity(pairs + 1);
    let mut pair_reward = Vec::with_capacity(pairs);
    let mut next = Vec::with_capacity(capacity);
    let mut probability = Vec::with_capacity(capacity);
    let mut reward = Vec::with_capacity(if outcome_rewards { capacity } else { 0 });
    let mut outcomes = Vec::with_capacity(generator.max_outcomes());
    pair_outcomes.push(0);
    for s in 0..generator.n_states() {
        state_pairs.push(pair_action.len());
        for action in 0..generator.n_actions() {
            generator.outcomes(s, action, &mut outcomes)?;
            // The compiled order, as the builder makes it: by next state.
            outcomes.sort_by_key(|o| o.0);
            let mut expected = 0.0;
            for &(to, p, r) in &outcomes {
                expected += p * r;
                next.push(to);
                probability.push(p);
                if outcome_rewards {
                    reward.push(r);
                }
            }
            pair_action.push(action);
            pair_reward.push(expected);
            pair_outcomes.push(next.len());
        }
    }
    state_pairs.push(pair_action.len());
    let parts = RawParts {
        n_states: n as u64,
        n_actions: a as u64,
        state_pairs: state_pairs.into(),
        pair_action: pair_action.into(),
        pair_outcomes: pair_outcomes.into(),
        pair_reward: pair_reward.into(),
        next: next.into(),
        probability: probability.into(),
        reward: outcome_rewards.then(|| reward.into()),
        ..RawParts::default()
    };
    TabularMdp::from_raw_parts(parts, ValidationOptions::default())
        .map(|(mdp, _)| mdp)
        .map_err(|e: RawPartsError| GenerateError::Parameters(e.to_string()))
}

/// A slippery `width × height` grid (Russell & Norvig's gridworld, scaled up) whose value
/// propagates slowly: with discount 0.99 value iteration needs about 1800 sweeps to certify
/// 1e-6, whatever the size beyond a few hundred cells.
///
/// State `y·width + x`. Actions 0 up, 1 right, 2 down, 3 left: the intended move happens with
/// probability `1 − slip`, each perpendicular move with `slip / 2`; a move off the grid
/// stays put (outcomes reaching the same cell are merged, listed by increasing next state).
/// Every step costs reward −1, until the goal, the last state (bottom-right corner), which
/// is absorbing with reward 0 under every action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gridworld {
    /// Cells per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Probability of slipping sideways, in `[0, 1)`.
    pub slip: f64,
}

impl PairGenerator for Gridworld {
    fn n_states(&self) -> u32 {
        self.width.saturating_mul(self.height)
    }
    fn n_actions(&self) -> u32 {
        4
    }
    fn max_outcomes(&self) -> usize {
        3
    }
    fn validate(&self) -> Result<(), GenerateError> {
        if self.width == 0 || self.height == 0 {
            return Err(GenerateError::Parameters(
                "width and height must be at least 1".into(),
            ));
        }
        if (self.width as u64) * (self.height as u64) > crate::model::MAX_IDS {
            return Err(GenerateError::Parameters(format!(
                "{} x {} cells are more states than u32 ids allow",
                self.width, self.height
            )));
        }
        if !(0.0..1.0).contains(&self.slip) {
            return Err(GenerateError::Parameters(format!(
                "slip must be in [0, 1), got {}",
                self.slip
            )));
        }
        Ok(())
    }
    fn outcomes(
        &self,
        state: u32,
        action: u32,
        out: &mut Vec<(u32, f64, f64)>,
    ) -> Result<(), GenerateError> {
        out.clear();
        if state == self.n_states() - 1 {
            out.push((state, 1.0, 0.0));
            return Ok(());
        }
        let (x, y) = (state % self.width, state / self.width);
        let step = |direction: u32| -> u32 {
            let (nx, ny) = match direction % 4 {
                0 if y > 0 => (x, y - 1),
                1 if x + 1 < self.width => (x + 1, y),
                2 if y + 1 < self.height => (x, y + 1),
                3 if x > 0 => (x - 1, y),
                _ => (x, y),
            };
            ny * self.width + nx
        };
        let side = self.slip / 2.0;
        let moves = [
            (step(action), 1.0 - self.slip),
            (step(action + 1), side),
            (step(action + 3), side),
        ];
        for (to, p) in moves {
            if p == 0.0 {
                continue;
            }
            match out.iter_mut().find(|o| o.0 == to) {
                Some(o) => o.1 += p,
                None => out.push((to, p, -1.0)),
            }
        }
        out.sort_by_key(|o| o.0);
        Ok(())
    }
}

/// pymdptoolbox's forest-management example, `mdptoolbox.example.forest(S, r1, r2, p)`:
/// action 0 waits (the forest grows one stage, or burns down to stage 0 with probability
/// `p`; waiting in the oldest stage earns `r1`), action 1 cuts (back to stage 0, earning 1,
/// or `r2` in the oldest stage, 0 in stage 0). Only nonzero probabilities are listed, by
/// increasing next state, as in the reference data's `forest_S*.transitions.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Forest {
    /// Stages `S ≥ 2`.
    pub n_states: u32,
    /// Reward of waiting in the oldest stage (pymdptoolbox's default 4).
    pub r1: f64,
    /// Reward of cutting in the oldest stage (default 2).
    pub r2: f64,
    /// Probability of a fire (default 0.1).
    pub p: f64,
}

impl Default for Forest {
    fn default() -> Self {
        Forest {
            n_states: 3,
            r1: 4.0,
            r2: 2.0,
            p: 0.1,
        }
    }
}

impl PairGenerator for Forest {
    fn n_states(&self) -> u32 {
        self.n_states
    }
    fn n_actions(&self) -> u32 {
        2
    }
    fn max_outcomes(&self) -> usize {
        2
    }
    fn validate(&self) -> Result<(), GenerateError> {
        if self.n_states < 2 {
            return Err(GenerateError::Parameters(
                "forest needs at least 2 states".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.p) {
            return Err(GenerateError::Parameters(format!(
                "p must be in [0, 1], got {}",
                self.p
            )));
        }
        if !self.r1.is_finite() || !self.r2.is_finite() {
            return Err(GenerateError::Parameters("r1 and r2 must be finite".into()));
        }
        Ok(())
    }
    fn outcomes(
        &self,
        state: u32,
        action: u32,
        out: &mut Vec<(u32, f64, f64)>,
    ) -> Result<(), GenerateError> {
        out.clear();
        let last = self.n_states - 1;
        if action == 0 {
            let reward = if state == last { self.r1 } else { 0.0 };
            let grown = (state + 1).min(last);
            for (to, p) in [(0, self.p), (grown, 1.0 - self.p)] {
                if p != 0.0 {
                    out.push((to, p, reward));
                }
            }
        } else {
            let reward = match state {
                0 => 0.0,
                s if s == last => self.r2,
                _ => 1.0,
            };
            out.push((0, 1.0, reward));
        }
        Ok(())
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

    fn built(generator: &impl PairGenerator) -> TabularMdp {
        let mut b = MdpBuilder::new();
        b.declare_states(generator.n_states() as u64).unwrap();
        b.declare_actions(generator.n_actions() as u64).unwrap();
        let mut out = Vec::new();
        for s in 0..generator.n_states() {
            for a in 0..generator.n_actions() {
                generator.outcomes(s, a, &mut out).unwrap();
                for &(n, p, r) in &out {
                    b.add(s as u64, a as u64, n as u64, p, r).unwrap();
                }
            }
        }
        b.build().unwrap().0
    }

    #[test]
    fn compiled_equals_built_from_rows() {
        let random = SplitMixSparse {
            n_states: 300,
            n_actions: 3,
            n_successors: 7,
            seed: 9,
        };
        assert_eq!(compile(&random, true).unwrap(), built(&random));
        let forest = Forest {
            n_states: 50,
            ..Forest::default()
        };
        assert_eq!(compile(&forest, true).unwrap(), built(&forest));
        let grid = Gridworld {
            width: 7,
            height: 5,
            slip: 0.2,
        };
        let compiled = compile(&grid, true).unwrap();
        assert_eq!(compiled, built(&grid));
        let lean = compile(&grid, false).unwrap();
        assert!(!lean.has_outcome_rewards());
        assert_eq!(lean.csr().pair_reward, compiled.csr().pair_reward);
        assert!(lean.memory_bytes() < compiled.memory_bytes());
    }

    #[test]
    fn gridworld_moves_and_merges() {
        let grid = Gridworld {
            width: 3,
            height: 2,
            slip: 0.2,
        };
        let mut out = Vec::new();
        // Corner (0,0), up: blocked (stay 0.8), right 0.1, left blocked (stay 0.1).
        grid.outcomes(0, 0, &mut out).unwrap();
        assert_eq!(out, vec![(0, 0.8 + 0.1, -1.0), (1, 0.1, -1.0)]);
        grid.outcomes(5, 2, &mut out).unwrap();
        assert_eq!(out, vec![(5, 1.0, 0.0)]);
        assert!(Gridworld { slip: 1.0, ..grid }.validate().is_err());
    }
}
