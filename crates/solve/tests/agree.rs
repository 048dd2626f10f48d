//! Every algorithm against the brute-force reference, and against known answers.

use decide_core::{ActionId, Limits, MdpBuilder, Objective, Sense, Solution, StateId, TabularMdp};
use decide_solve::{Algorithm, Problem, solve};
use decide_testkit::{brute_force_optimum, policy_value, small_mdp};
use proptest::prelude::*;

fn limits(tolerance: f64) -> Limits {
    Limits {
        tolerance,
        threads: 1,
        ..Limits::default()
    }
}

fn run(
    mdp: &TabularMdp,
    sense: Sense,
    discount: f64,
    algorithm: Algorithm,
    tolerance: f64,
) -> Solution {
    let problem = Problem::new(mdp, Objective::discounted(sense, discount).unwrap());
    solve(&problem, algorithm, &limits(tolerance)).unwrap()
}

/// The certificate's promises, checked against an independent exact answer.
fn check_certificate(
    mdp: &TabularMdp,
    sense: Sense,
    discount: f64,
    solution: &Solution,
    reference: &[f64],
) {
    let cert = solution.report.certificate;
    let scale = reference.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    // The reference itself is a dense LU solve: allow its own rounding.
    let slack = 1e-12 * scale / (1.0 - discount).max(1e-3);
    for s in 0..mdp.n_states() {
        assert!(
            solution.lower[s] - slack <= reference[s] && reference[s] <= solution.upper[s] + slack,
            "state {s}: V* = {} outside [{}, {}] ({})",
            reference[s],
            solution.lower[s],
            solution.upper[s],
            solution.report.algorithm
        );
        assert!((solution.values[s] - reference[s]).abs() <= cert.value_error + slack);
    }
    let own = policy_value(mdp, discount, &solution.policy);
    for s in 0..mdp.n_states() {
        let loss = match sense {
            Sense::Maximize => reference[s] - own[s],
            Sense::Minimize => own[s] - reference[s],
        };
        assert!(
            loss <= cert.policy_gap + slack,
            "state {s}: policy loses {loss} > gap {} ({})",
            cert.policy_gap,
            solution.report.algorithm
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn every_algorithm_agrees_with_brute_force(
        mdp in small_mdp(8, 3),
        discount in prop_oneof![Just(0.0), 0.0f64..0.999, Just(0.999)],
        minimize in any::<bool>(),
    ) {
        let sense = if minimize { Sense::Minimize } else { Sense::Maximize };
        let reference = brute_force_optimum(&mdp, sense, discount);
        for algorithm in Algorithm::ALL {
            let solution = run(&mdp, sense, discount, algorithm, 1e-6);
            prop_assert!(solution.report.is_converged(), "{:?}", solution.report);
            check_certificate(&mdp, sense, discount, &solution, &reference);
        }
    }

    #[test]
    fn bounds_hold_after_any_number_of_iterations(
        mdp in small_mdp(8, 3),
        discount in 0.0f64..0.999,
        minimize in any::<bool>(),
        stop_after in 1u64..6,
    ) {
        let sense = if minimize { Sense::Minimize } else { Sense::Maximize };
        let reference = brute_force_optimum(&mdp, sense, discount);
        let problem = Problem::new(&mdp, Objective::discounted(sense, discount).unwrap());
        for algorithm in Algorithm::ALL {
            let limits = Limits { max_iterations: Some(stop_after), tolerance: 0.0, threads: 1, ..Limits::default() };
            let solution = solve(&problem, algorithm, &limits).unwrap();
            check_certificate(&mdp, sense, discount, &solution, &reference);
        }
    }
}

fn small() -> TabularMdp {
    // pymdptoolbox's mdptoolbox.example.small(): P[a][s][s'], R[s][a].
    let p = [[[0.5, 0.5], [0.8, 0.2]], [[0.0, 1.0], [0.1, 0.9]]];
    let r = [[5.0, 10.0], [-1.0, 2.0]];
    let mut b = MdpBuilder::new();
    for a in 0..2 {
        for s in 0..2 {
            for n in 0..2 {
                if p[a][s][n] > 0.0 {
                    b.add(s as u64, a as u64, n as u64, p[a][s][n], r[s][a])
                        .unwrap();
                }
            }
        }
    }
    b.build().unwrap().0
}

#[test]
fn pymdptoolbox_small_model_every_algorithm() {
    let mdp = small();
    for algorithm in Algorithm::ALL.into_iter().chain([Algorithm::Auto]) {
        let s = run(&mdp, Sense::Maximize, 0.99, algorithm, 1e-6);
        assert!(s.report.is_converged());
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
        assert_eq!(
            s.policy,
            vec![Some(ActionId(1)), Some(ActionId(0))],
            "{algorithm}"
        );
    }
}

#[test]
fn all_zero_rewards_converge_at_once_to_zero() {
    let mut b = MdpBuilder::new();
    for s in 0..5u64 {
        for a in 0..2u64 {
            b.add(s, a, (s + a) % 5, 0.5, 0.0).unwrap();
            b.add(s, a, (s + 2) % 5, 0.5, 0.0).unwrap();
        }
    }
    let mdp = b.build().unwrap().0;
    for algorithm in Algorithm::ALL {
        let s = run(&mdp, Sense::Maximize, 0.99, algorithm, 1e-6);
        assert!(s.report.is_converged());
        assert!(
            s.report.iterations <= 1,
            "{algorithm}: {}",
            s.report.iterations
        );
        assert!(
            s.values.iter().all(|&v| v == 0.0),
            "{algorithm}: {:?}",
            s.values
        );
        assert!(s.lower.iter().chain(&s.upper).all(|v| v.is_finite()));
    }
}

#[test]
fn self_loop_at_discount_0_999_is_1000() {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 1.0, 1.0).unwrap();
    let mdp = b.build().unwrap().0;
    for algorithm in Algorithm::ALL {
        let s = run(&mdp, Sense::Maximize, 0.999, algorithm, 1e-9);
        assert!(s.report.is_converged(), "{algorithm}: {:?}", s.report);
        assert!(
            (s.values[0] - 1000.0).abs() < 1e-9,
            "{algorithm}: {}",
            s.values[0]
        );
    }
}

#[test]
fn slow_model_runs_until_the_certificate_holds() {
    // A chain where value iteration needs thousands of sweeps at γ = 0.999.
    let n = 50u64;
    let mut b = MdpBuilder::new();
    for s in 0..n {
        b.add(
            s,
            0,
            (s + 1).min(n - 1),
            1.0,
            if s == n - 1 { 1.0 } else { 0.0 },
        )
        .unwrap();
        b.add(s, 1, 0, 1.0, 0.0).unwrap();
    }
    let mdp = b.build().unwrap().0;
    let reference = brute_force_optimum_chain(&mdp, 0.999);
    for algorithm in Algorithm::ALL {
        let s = run(&mdp, Sense::Maximize, 0.999, algorithm, 1e-8);
        assert!(s.report.is_converged());
        for (x, y) in s.values.iter().zip(&reference) {
            assert!((x - y).abs() <= 1e-8, "{algorithm}: {x} vs {y}");
        }
    }
}

/// In the chain, "always go forward" is optimal: its exact value is the reference.
fn brute_force_optimum_chain(mdp: &TabularMdp, discount: f64) -> Vec<f64> {
    let forward = vec![Some(ActionId(0)); mdp.n_states()];
    policy_value(mdp, discount, &forward)
}

#[test]
fn iteration_limit_is_reported_with_an_honest_certificate() {
    let mdp = small();
    let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.99).unwrap());
    let limits = Limits {
        max_iterations: Some(3),
        threads: 1,
        ..Limits::default()
    };
    let s = solve(&problem, Algorithm::ValueIteration, &limits).unwrap();
    assert_eq!(s.report.status, decide_core::Status::IterationLimit);
    assert_eq!(s.report.iterations, 3);
    let reference = brute_force_optimum(&mdp, Sense::Maximize, 0.99);
    for st in 0..2 {
        assert!(s.lower[st] <= reference[st] && reference[st] <= s.upper[st]);
    }
    let _ = StateId(0);
}

#[test]
fn tolerance_below_double_precision_is_reported_not_looped_on() {
    let mdp = small();
    let s = run(&mdp, Sense::Maximize, 0.99, Algorithm::ValueIteration, 0.0);
    assert_eq!(s.report.status, decide_core::Status::PrecisionLimit);
    assert!(s.report.certificate.policy_gap < 1e-8);
}

#[test]
fn thread_count_does_not_change_the_answer() {
    let g = decide_core::generate::SplitMixSparse {
        n_states: 5000,
        n_actions: 3,
        n_successors: 4,
        seed: 7,
    };
    let mdp = g.builder().unwrap().build().unwrap().0;
    let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.95).unwrap());
    for algorithm in Algorithm::ALL {
        let one = solve(
            &problem,
            algorithm,
            &Limits {
                threads: 1,
                ..Limits::default()
            },
        )
        .unwrap();
        let two = solve(
            &problem,
            algorithm,
            &Limits {
                threads: 2,
                ..Limits::default()
            },
        )
        .unwrap();
        assert_eq!(one.values, two.values, "{algorithm}");
        assert_eq!(one.policy, two.policy, "{algorithm}");
        assert_eq!(one.report.iterations, two.report.iterations, "{algorithm}");
    }
}

#[test]
fn terminal_value_is_collected_on_arrival() {
    // s0 --go--> s1 (terminal, value 100), reward −1, discount 0.9: V(s0) = −1 + 0.9·100 = 89.
    let mut b = MdpBuilder::new();
    b.add(0, 0, 1, 1.0, -1.0).unwrap();
    b.mark_terminal_with_value(1, 100.0).unwrap();
    let mdp = b.build().unwrap().0;
    for algorithm in Algorithm::ALL {
        let s = run(&mdp, Sense::Maximize, 0.9, algorithm, 1e-9);
        assert!(s.report.is_converged());
        assert!(
            (s.values[0] - 89.0).abs() < 1e-9,
            "{algorithm}: {:?}",
            s.values
        );
        assert_eq!(s.values[1], 100.0);
        assert!(s.lower[0] <= 89.0 && 89.0 <= s.upper[0]);
        assert_eq!(s.policy[1], None);
    }
}

#[test]
fn bounds_after_one_sweep_hold_with_terminal_states() {
    // s0 → t (terminal, value 1), reward 1, γ = 0.9: V*(s0) = 1.9. After one sweep from 0 every
    // change is +1; a fixed terminal value must not let the lower bound extrapolate to 10.
    let mut b = MdpBuilder::new();
    b.add(0, 0, 1, 1.0, 1.0).unwrap();
    b.mark_terminal_with_value(1, 1.0).unwrap();
    let mdp = b.build().unwrap().0;
    let problem = Problem::new(&mdp, Objective::discounted(Sense::Maximize, 0.9).unwrap());
    let limits = Limits {
        max_iterations: Some(1),
        threads: 1,
        ..Limits::default()
    };
    let s = solve(&problem, Algorithm::ValueIteration, &limits).unwrap();
    assert!(
        s.lower[0] <= 1.9 && 1.9 <= s.upper[0],
        "[{}, {}]",
        s.lower[0],
        s.upper[0]
    );
}
