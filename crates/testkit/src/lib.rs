//! Test helpers for decide: a brute-force reference solver for tiny models and proptest
//! strategies for random small MDPs. Nothing here is fast; everything here is simple enough
//! to trust.

use decide_core::{ActionId, MdpBuilder, Sense, StateId, TabularMdp};
use faer::Mat;
use faer::linalg::solvers::Solve;
use proptest::prelude::*;

/// Exact value of a deterministic policy by a dense LU solve of `(I − γP_π) v = r_π`.
/// `policy[s]` is `None` only for terminal states (value 0).
pub fn policy_value(mdp: &TabularMdp, discount: f64, policy: &[Option<ActionId>]) -> Vec<f64> {
    let n = mdp.n_states();
    let mut a = Mat::<f64>::identity(n, n);
    let mut r = Mat::<f64>::zeros(n, 1);
    for s in 0..n {
        let Some(action) = policy[s] else {
            r[(s, 0)] = mdp.terminal_value(s);
            continue;
        };
        let k = mdp
            .pair_of(StateId(s as u32), action)
            .expect("policy action is available");
        r[(s, 0)] = mdp.pair_reward(k);
        for o in mdp.outcomes(k) {
            a[(s, o.next.index())] -= discount * o.probability;
        }
    }
    let x = a.partial_piv_lu().solve(&r);
    (0..n).map(|i| x[(i, 0)]).collect()
}

/// `V*` by enumerating every deterministic policy (tiny models only: the count is the
/// product of the action counts) and taking, per state, the best policy value.
pub fn brute_force_optimum(mdp: &TabularMdp, sense: Sense, discount: f64) -> Vec<f64> {
    let n = mdp.n_states();
    let choices: Vec<Vec<Option<ActionId>>> = (0..n)
        .map(|s| {
            let acts: Vec<_> = mdp.actions(StateId(s as u32)).map(Some).collect();
            if acts.is_empty() { vec![None] } else { acts }
        })
        .collect();
    let total: usize = choices.iter().map(Vec::len).product();
    assert!(total <= 100_000, "brute force is for tiny models");
    let mut best: Option<Vec<f64>> = None;
    let mut index = vec![0usize; n];
    for _ in 0..total {
        let policy: Vec<_> = (0..n).map(|s| choices[s][index[s]]).collect();
        let v = policy_value(mdp, discount, &policy);
        best = Some(match best {
            None => v,
            Some(b) => b
                .iter()
                .zip(&v)
                .map(|(&x, &y)| if sense.better(y, x) { y } else { x })
                .collect(),
        });
        for s in 0..n {
            index[s] += 1;
            if index[s] < choices[s].len() {
                break;
            }
            index[s] = 0;
        }
    }
    best.expect("at least one policy")
}

/// `q(s, a)` against values `v`.
pub fn q_value(
    mdp: &TabularMdp,
    discount: f64,
    state: StateId,
    action: ActionId,
    v: &[f64],
) -> f64 {
    let k = mdp.pair_of(state, action).expect("action available");
    mdp.pair_reward(k)
        + discount
            * mdp
                .outcomes(k)
                .map(|o| o.probability * v[o.next.index()])
                .sum::<f64>()
}

/// A random small MDP: up to `max_states` states, up to `max_actions` actions per state
/// (every state has at least one), random supports and weights, rewards in [-10, 10], and
/// some terminal states with values in [-10, 10].
pub fn small_mdp(max_states: usize, max_actions: usize) -> impl Strategy<Value = TabularMdp> {
    (1..=max_states).prop_flat_map(move |n| {
        let pair = (
            proptest::collection::vec(0.0f64..1.0, n),
            proptest::collection::vec(-10.0f64..10.0, n),
            0usize..n,
        );
        let state = proptest::collection::vec(pair, 1..=max_actions);
        // About one state in six is terminal with a fixed value (its actions are dropped).
        let terminal = proptest::option::weighted(1.0 / 6.0, -10.0f64..10.0);
        (
            proptest::collection::vec(state, n),
            proptest::collection::vec(terminal, n),
        )
            .prop_map(move |(states, terminal)| {
                let mut b = MdpBuilder::new();
                b.declare_states(n as u64).expect("small");
                for (s, value) in terminal.iter().enumerate() {
                    if let Some(value) = value {
                        b.mark_terminal_with_value(s as u64, *value)
                            .expect("finite");
                    }
                }
                for (s, actions) in states.iter().enumerate() {
                    for (a, (weights, rewards, forced)) in actions.iter().enumerate() {
                        // Sparsify: keep weights above 0.5 plus one forced successor.
                        let kept: Vec<(usize, f64)> = weights
                            .iter()
                            .enumerate()
                            .filter(|&(j, &w)| w > 0.5 || j == *forced)
                            .map(|(j, &w)| (j, w + 0.01))
                            .collect();
                        let total: f64 = kept.iter().map(|x| x.1).sum();
                        for &(j, w) in &kept {
                            b.add(s as u64, a as u64, j as u64, w / total, rewards[j])
                                .expect("valid by construction");
                        }
                    }
                }
                b.build().expect("valid by construction").0
            })
    })
}
