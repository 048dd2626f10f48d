//! Linear programming (`--algorithm lp`, HiGHS): the primal and the dual LP equal policy
//! iteration's answer within 1e-8 on every reference case of `testdata/mdp`, for rewards and
//! for costs, and carry the same certificate as every other method.

use decide_core::{Limits, MdpBuilder, Objective, Sense, TabularMdp};
use decide_solve::algorithms::Formulation;
use decide_solve::{Algorithm, Problem, SolveError, solve};

const LP: Algorithm = Algorithm::LinearProgramming {
    formulation: Formulation::Primal,
};
const LP_DUAL: Algorithm = Algorithm::LinearProgramming {
    formulation: Formulation::Dual,
};

#[test]
fn spellings() {
    for text in [
        "lp",
        "LP",
        "linearprogramming",
        "linear-programming",
        "linear_programming",
    ] {
        assert_eq!(text.parse::<Algorithm>(), Ok(LP), "{text}");
    }
    for text in ["lp-dual", "lpdual", "linear-programming-dual"] {
        assert_eq!(text.parse::<Algorithm>(), Ok(LP_DUAL), "{text}");
    }
    assert_eq!(LP.to_string(), "lp");
    assert_eq!(LP_DUAL.to_string(), "lp-dual");
    assert_eq!(LP.to_string().parse::<Algorithm>(), Ok(LP));
    assert_eq!(LP_DUAL.to_string().parse::<Algorithm>(), Ok(LP_DUAL));
    assert_eq!(Algorithm::ALL.len(), 4, "ALL stays the iterative methods");
}

/// pymdptoolbox's "small" model.
fn small() -> TabularMdp {
    let mut b = MdpBuilder::new();
    for (s, a, n, p, r) in [
        (0, 0, 0, 0.5, 5.0),
        (0, 0, 1, 0.5, 5.0),
        (0, 1, 1, 1.0, 10.0),
        (1, 0, 0, 0.8, -1.0),
        (1, 0, 1, 0.2, -1.0),
        (1, 1, 0, 0.1, 2.0),
        (1, 1, 1, 0.9, 2.0),
    ] {
        b.add(s, a, n, p, r).unwrap();
    }
    b.build().unwrap().0
}

#[cfg(not(feature = "lp"))]
#[test]
fn without_the_feature_lp_is_a_clear_error() {
    let mdp = small();
    let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.99).unwrap());
    let err = solve(&problem, LP, &Limits::default()).unwrap_err();
    assert!(matches!(err, SolveError::LinearProgrammingUnavailable));
    assert!(err.to_string().contains("`lp` feature"), "{err}");
}

#[cfg(feature = "lp")]
mod with_highs {
    use super::*;
    use decide_core::{ActionId, StateId, Status};
    use decide_io::{ReadOptions, read_model};
    use decide_solve::algorithms::{solve_lp, uniform_initial};
    use std::path::PathBuf;
    use std::time::Instant;

    const CASES: [&str; 5] = [
        "frozenlake4x4_slippery",
        "frozenlake8x8_slippery",
        "forest_S3",
        "forest_S1000",
        "random_N2000_A4_B5_seed42",
    ];

    fn limits() -> Limits {
        Limits {
            tolerance: 1e-9,
            ..Limits::default()
        }
    }

    fn load(case: &str) -> TabularMdp {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/mdp")
            .join(format!("{case}.transitions.csv"));
        let model = read_model(&path, &ReadOptions::default()).unwrap();
        assert_eq!(model.discount, Some(0.99));
        assert_eq!(model.sense.unwrap_or(Sense::Maximize), Sense::Maximize);
        model.mdp
    }

    /// The same model with every reward negated: its minimal cost is `−V*`.
    fn negated(mdp: &TabularMdp) -> TabularMdp {
        let mut b = MdpBuilder::new();
        b.declare_states(mdp.n_states() as u64).unwrap();
        b.declare_actions(mdp.n_actions() as u64).unwrap();
        for s in 0..mdp.n_states() {
            for k in mdp.pairs(StateId(s as u32)) {
                let a = mdp.pair_action(k).0 as u64;
                for o in mdp.outcomes(k) {
                    b.add(s as u64, a, o.next.0 as u64, o.probability, -o.reward)
                        .unwrap();
                }
            }
        }
        b.build().unwrap().0
    }

    fn max_diff(a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    }

    /// LP (both formulations) against policy iteration on one model and sense; `flip` is the
    /// sign relating the policy-iteration reference to this problem's values.
    fn compare(label: &str, mdp: &TabularMdp, sense: Sense, reference: &[f64], flip: f64) {
        let problem = Problem::new(mdp, Objective::discounted(sense, 0.99).unwrap());
        for algorithm in [LP, LP_DUAL] {
            let started = Instant::now();
            let s = solve(&problem, algorithm, &limits()).unwrap();
            let time = started.elapsed();
            let label = format!("{label} / {algorithm} / {sense:?}");
            assert_eq!(
                s.report.status,
                Status::Converged,
                "{label}: {:?}",
                s.report
            );
            assert_eq!(s.report.iterations, 1, "{label}: one LP, no polishing");
            let expected: Vec<f64> = reference.iter().map(|v| flip * v).collect();
            let diff = max_diff(&s.values, &expected);
            eprintln!(
                "{label}: max |V_lp - V_pi| = {diff:.3e}, policy gap {:.3e}, {:.3} s",
                s.report.certificate.policy_gap,
                time.as_secs_f64()
            );
            assert!(diff <= 1e-8, "{label}: max |V_lp − V_pi| = {diff:e}");
            assert!(
                s.report.certificate.policy_gap <= 1e-8,
                "{label}: {:?}",
                s.report.certificate
            );
            for (i, v) in expected.iter().enumerate() {
                assert!(
                    s.lower[i] <= *v + 1e-9 && *v - 1e-9 <= s.upper[i],
                    "{label}: state {i}: {v} outside [{}, {}]",
                    s.lower[i],
                    s.upper[i]
                );
            }
        }
    }

    #[test]
    fn lp_equals_policy_iteration_on_every_reference_case() {
        for case in CASES {
            let mdp = load(case);
            let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.99).unwrap());
            let started = Instant::now();
            let pi = solve(&problem, Algorithm::PolicyIteration, &limits()).unwrap();
            eprintln!(
                "{case} / pi: {:.3} s, {} iterations",
                started.elapsed().as_secs_f64(),
                pi.report.iterations
            );
            assert_eq!(
                pi.report.status,
                Status::Converged,
                "{case}: {:?}",
                pi.report
            );
            compare(case, &mdp, Sense::Maximize, &pi.values, 1.0);
            // HiGHS's own numbers (before decide evaluates the LP's policy exactly) are close
            // too, and its policy is optimal: the exact evaluation only removes its rounding.
            for formulation in [Formulation::Primal, Formulation::Dual] {
                let lp = solve_lp(&problem, formulation).unwrap();
                let raw = max_diff(&lp.values, &pi.values);
                eprintln!("{case} / {formulation} LP, HiGHS's values: max |V - V_pi| = {raw:.3e}");
                assert!(raw <= 1e-7, "{case} / {formulation}: {raw:e}");
            }
            // Costs: the negated model minimised has values −V*.
            let costs = negated(&mdp);
            compare(case, &costs, Sense::Minimize, &pi.values, -1.0);
        }
    }

    #[test]
    fn pymdptoolbox_small_model() {
        let mdp = small();
        let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.99).unwrap());
        for algorithm in [LP, LP_DUAL] {
            let s = solve(&problem, algorithm, &limits()).unwrap();
            assert!(
                (s.values[0] - 392.299107).abs() < 1e-5,
                "{algorithm}: {:?}",
                s.values
            );
            assert!(
                (s.values[1] - 386.160714).abs() < 1e-5,
                "{algorithm}: {:?}",
                s.values
            );
            assert_eq!(s.policy, vec![Some(ActionId(1)), Some(ActionId(0))]);
            assert_eq!(
                s.report.algorithm,
                match algorithm {
                    LP => "linear_programming",
                    _ => "linear_programming_dual",
                }
            );
        }
    }

    /// s0 —go→ s1 (terminal, value 100) with reward −1, or `stay` with reward 0; discount 0.9.
    #[test]
    fn terminal_values_are_fixed() {
        let mut b = MdpBuilder::new();
        b.add(0, 0, 1, 1.0, -1.0).unwrap();
        b.add(0, 1, 0, 1.0, 0.0).unwrap();
        b.mark_terminal_with_value(1, 100.0).unwrap();
        let (mdp, _) = b.build().unwrap();
        let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.9).unwrap());
        for algorithm in [LP, LP_DUAL] {
            let s = solve(&problem, algorithm, &limits()).unwrap();
            assert!(
                (s.values[0] - 89.0).abs() < 1e-9,
                "{algorithm}: {:?}",
                s.values
            );
            assert_eq!(s.values[1], 100.0);
            assert_eq!(s.policy, vec![Some(ActionId(0)), None]);
        }
    }

    /// Both formulations give the occupancy measure of the optimal policy from the uniform
    /// start: it satisfies the flow equations, sums to 1/(1−γ), is carried by the policy's
    /// pairs, and pays `Σ α V*`.
    #[test]
    fn occupancy_measure_from_both_formulations() {
        let mdp = load("frozenlake8x8_slippery");
        let gamma = 0.99;
        let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, gamma).unwrap());
        let alpha = uniform_initial(&problem);
        for formulation in [Formulation::Primal, Formulation::Dual] {
            let lp = solve_lp(&problem, formulation).unwrap();
            assert!(lp.optimal, "{formulation}: {}", lp.status);
            assert_eq!(lp.initial, alpha);
            let x = &lp.occupancy;
            assert!(x.iter().all(|&v| v >= 0.0));
            let total: f64 = x.iter().sum();
            assert!(
                (total - 1.0 / (1.0 - gamma)).abs() < 1e-6,
                "{formulation}: {total}"
            );
            // Flow: Σ_a x(s',a) − γ Σ p(s'|s,a) x(s,a) = α(s').
            let mut flow: Vec<f64> = alpha.iter().map(|a| -a).collect();
            for s in 0..mdp.n_states() {
                for k in mdp.pairs(StateId(s as u32)) {
                    flow[s] += x[k];
                    for o in mdp.outcomes(k) {
                        flow[o.next.index()] -= gamma * o.probability * x[k];
                    }
                }
            }
            assert!(
                max_diff(&flow, &vec![0.0; flow.len()]) < 1e-8,
                "{formulation}"
            );
            // A vertex: one pair per state carries the mass, and it is the policy's.
            for s in 0..mdp.n_states() {
                let used = mdp
                    .pairs(StateId(s as u32))
                    .filter(|&k| x[k] > 1e-9)
                    .collect::<Vec<_>>();
                assert_eq!(used, vec![lp.policy[s]], "{formulation}: state {s}");
            }
            let reward: f64 = (0..mdp.n_pairs()).map(|k| mdp.pair_reward(k) * x[k]).sum();
            let weighted: f64 = alpha.iter().zip(&lp.values).map(|(a, v)| a * v).sum();
            assert!(
                (reward - weighted).abs() < 1e-8,
                "{formulation}: {reward} vs {weighted}"
            );
            assert!((lp.objective - weighted).abs() < 1e-8, "{formulation}");
        }
    }

    #[test]
    fn other_criteria_are_refused() {
        let mdp = small();
        for objective in [
            Objective::total(Sense::Maximize),
            Objective::average(Sense::Maximize),
        ] {
            let problem = Problem::new(&mdp, objective);
            let err = solve(&problem, LP, &limits()).unwrap_err();
            assert!(
                matches!(err, SolveError::UnsupportedCriterion { .. }),
                "{err}"
            );
        }
    }
}
