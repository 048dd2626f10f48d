//! Robust MDPs (issue 7): the interval case, radius 0 on the reference data, monotonicity in
//! the radius, the inner worst-case steps against an LP (HiGHS) and a convex dual solve,
//! s-rectangular sets, robust evaluation, and IWOCS for the static model (the digest's bracket,
//! degenerate and windy-walk tests, and brute force on random tiny families).

// Index loops over states read closest to the maths here.
#![allow(clippy::needless_range_loop)]

use decide_core::{ActionId, Limits, MdpBuilder, Objective, Sense, StateId, TabularMdp};
use decide_io::{ReadOptions, read_model};
use decide_solve::robust::inner::{
    dot, interval_worst, kl_divergence, kl_worst, l1_segments, l1_worst,
};
use decide_solve::robust::{
    Ambiguity, IntervalBounds, Rectangularity, RobustAlgorithm, RobustProblem, evaluate_robust,
    solve_robust,
};
use decide_solve::{Algorithm, Problem, solve};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use std::path::PathBuf;

fn limits(tolerance: f64) -> Limits {
    Limits {
        tolerance,
        threads: 1,
        ..Limits::default()
    }
}

const MPI: RobustAlgorithm = RobustAlgorithm::ModifiedPolicyIteration { sweeps: 20 };

/// The issue's interval case: robust V(s0) = 1/(1 − 0.9·0.4) = 1.5625.
#[test]
fn interval_case_of_the_issue() {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 0.5, 1.0).unwrap();
    b.add(0, 0, 1, 0.5, 1.0).unwrap();
    b.add(1, 0, 1, 1.0, 0.0).unwrap();
    let (mdp, _) = b.build().unwrap();
    let bounds = IntervalBounds {
        low: vec![0.4, 0.4, 1.0],
        high: vec![0.6, 0.6, 1.0],
    };
    let objective = Objective::discounted(Sense::Maximize, 0.9).unwrap();
    let problem = RobustProblem::new(&mdp, objective, Ambiguity::Interval(&bounds));
    for algorithm in [RobustAlgorithm::ValueIteration, MPI] {
        let r = solve_robust(&problem, algorithm, &limits(1e-12)).unwrap();
        let v = &r.solution;
        println!(
            "interval case ({algorithm:?}): V(s0) = {:.15} in [{:.15}, {:.15}], status {}",
            v.values[0], v.lower[0], v.upper[0], v.report.status
        );
        assert!(v.lower[0] <= 1.5625 && 1.5625 <= v.upper[0]);
        assert!((v.values[0] - 1.5625).abs() < 1e-11);
        assert_eq!(v.values[1], 0.0);
        // Nature keeps only 0.4 on staying.
        let k = r.worst_case.pair_of(StateId(0), ActionId(0)).unwrap();
        let stay: f64 = r
            .worst_case
            .outcomes(k)
            .filter(|o| o.next == StateId(0))
            .map(|o| o.probability)
            .sum();
        assert!((stay - 0.4).abs() < 1e-12, "{stay}");
    }
    let e = evaluate_robust(
        &problem,
        &[Some(ActionId(0)), Some(ActionId(0))],
        &limits(1e-12),
    )
    .unwrap();
    assert!((e.values[0] - 1.5625).abs() < 1e-11);
    assert!((e.worst_case_values[0] - 1.5625).abs() < 1e-11);
    // And as costs: nature now keeps 0.6 on staying: 1/(1 − 0.54) = 2.1739…
    let costs = RobustProblem::new(
        &mdp,
        Objective::discounted(Sense::Minimize, 0.9).unwrap(),
        Ambiguity::Interval(&bounds),
    );
    let r = solve_robust(&costs, MPI, &limits(1e-12)).unwrap();
    assert!((r.solution.values[0] - 1.0 / (1.0 - 0.54)).abs() < 1e-11);
}

fn reference_case(case: &str) -> (TabularMdp, Vec<f64>, f64) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/mdp");
    let model = read_model(
        &dir.join(format!("{case}.transitions.csv")),
        &ReadOptions::default(),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join(format!("{case}.reference.json"))).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = reference["V"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    (model.mdp, v, model.discount.unwrap())
}

const CASES: [&str; 5] = [
    "forest_S3",
    "forest_S1000",
    "frozenlake4x4_slippery",
    "frozenlake8x8_slippery",
    "random_N2000_A4_B5_seed42",
];

/// Radius 0 (L1, KL; intervals pinned at the nominal probabilities; the finite set of the
/// nominal model alone) reproduces the nominal optimum on every reference case.
#[test]
fn radius_zero_reproduces_the_nominal_optimum() {
    for case in CASES {
        let (mdp, reference, discount) = reference_case(case);
        let objective = Objective::discounted(Sense::Maximize, discount).unwrap();
        let nominal = solve(
            &Problem::new(&mdp, objective),
            Algorithm::PolicyIteration,
            &limits(1e-9),
        )
        .unwrap();
        let pinned = IntervalBounds {
            low: mdp.csr().probability.to_vec(),
            high: mdp.csr().probability.to_vec(),
        };
        let family = [mdp.clone()];
        let sets = [
            Ambiguity::L1 { radius: 0.0 },
            Ambiguity::Kl { radius: 0.0 },
            Ambiguity::Interval(&pinned),
            Ambiguity::Finite(&family),
        ];
        for set in sets {
            let problem = RobustProblem::new(&mdp, objective, set);
            let r = solve_robust(&problem, MPI, &limits(1e-9)).unwrap();
            let s = &r.solution;
            let scale = reference.iter().fold(1.0f64, |m, x| m.max(x.abs()));
            let diff = s
                .values
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            let policy_diff = s
                .values
                .iter()
                .zip(&nominal.values)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            println!(
                "{case} {}: max |V_robust − V_reference| = {diff:.2e}, vs decide's nominal {policy_diff:.2e}, gap {:.1e}, {} iterations, {}",
                set.describe(),
                s.report.certificate.policy_gap,
                s.report.iterations,
                s.report.status
            );
            assert!(s.report.is_converged(), "{case}: {}", s.report.status);
            assert!(diff <= 1e-9 * scale + 1e-9, "{case}: {diff}");
            for st in 0..mdp.n_states() {
                assert!(s.lower[st] <= reference[st] + 1e-9 * scale);
                assert!(reference[st] <= s.upper[st] + 1e-9 * scale);
            }
            // The robust policy is nominally optimal: its exact nominal value is V*.
            let mut value = vec![0.0; mdp.n_states()];
            decide_solve::evaluate::evaluate(&mdp, discount, &pairs(&mdp, &s.policy), &mut value);
            let worst = value
                .iter()
                .zip(&reference)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst <= 1e-8 * scale, "{case}: policy off by {worst}");
        }
    }
}

fn pairs(mdp: &TabularMdp, policy: &[Option<ActionId>]) -> Vec<usize> {
    policy
        .iter()
        .enumerate()
        .map(|(s, a)| match a {
            None => usize::MAX,
            Some(a) => mdp.pair_of(StateId(s as u32), *a).unwrap(),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// The robust value never increases with the radius (L1 and KL), and lies below the
    /// nominal value.
    #[test]
    fn robust_value_is_non_increasing_in_the_radius(
        mdp in decide_testkit::small_mdp(6, 3),
        radii in proptest::collection::vec(0.0f64..2.0, 2..5),
        discount in 0.5f64..0.95,
    ) {
        let objective = Objective::discounted(Sense::Maximize, discount).unwrap();
        let mut radii = radii;
        radii.push(0.0);
        radii.sort_by(f64::total_cmp);
        for make in [
            (|r: f64| Ambiguity::L1 { radius: r }) as fn(f64) -> Ambiguity<'static>,
            |r: f64| Ambiguity::Kl { radius: r / 2.0 },
        ] {
            let mut previous: Option<Vec<f64>> = None;
            for &r in &radii {
                let problem = RobustProblem::new(&mdp, objective, make(r));
                let s = solve_robust(&problem, MPI, &limits(1e-10)).unwrap().solution;
                if let Some(prev) = &previous {
                    for st in 0..mdp.n_states() {
                        prop_assert!(s.lower[st] <= prev[st] + 1e-9,
                            "radius {r}: state {st}: {} > {}", s.lower[st], prev[st]);
                    }
                }
                previous = Some(s.upper.clone());
            }
        }
    }

    /// s-rectangular L1 lies between the sa-rectangular value (a larger nature) and the
    /// nominal one, equals sa where every state has one action, and the randomised policy's
    /// robust value (nature's reply, evaluated exactly) is within the certificate.
    #[test]
    fn s_rectangular_between_sa_and_nominal(
        mdp in decide_testkit::small_mdp(5, 3),
        radius in 0.0f64..2.0,
        discount in 0.5f64..0.95,
    ) {
        let objective = Objective::discounted(Sense::Maximize, discount).unwrap();
        let sa = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius });
        let s_rect = sa.with_rectangularity(Rectangularity::S);
        let zero = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius: 0.0 });
        let v_sa = solve_robust(&sa, MPI, &limits(1e-10)).unwrap().solution;
        let r_s = solve_robust(&s_rect, RobustAlgorithm::ValueIteration, &limits(1e-10)).unwrap();
        let v_nom = solve_robust(&zero, MPI, &limits(1e-10)).unwrap().solution;
        let v_s = &r_s.solution;
        prop_assert!(v_s.report.is_converged());
        for st in 0..mdp.n_states() {
            prop_assert!(v_sa.lower[st] <= v_s.upper[st] + 1e-9);
            prop_assert!(v_s.lower[st] <= v_nom.upper[st] + 1e-9);
        }
        let randomized = r_s.randomized.as_ref().unwrap();
        for st in 0..mdp.n_states() {
            let total: f64 = randomized[st].iter().map(|x| x.1).sum();
            if mdp.is_terminal(StateId(st as u32)) {
                prop_assert!(randomized[st].is_empty());
            } else {
                prop_assert!((total - 1.0).abs() < 1e-12);
            }
        }
    }
}

/// s-rectangular L1 with one action per state is the sa-rectangular ball.
#[test]
fn s_rectangular_with_one_action_is_sa() {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 0.5, 1.0).unwrap();
    b.add(0, 0, 1, 0.3, 1.0).unwrap();
    b.add(0, 0, 2, 0.2, 1.0).unwrap();
    b.add(1, 0, 0, 0.5, 2.0).unwrap();
    b.add(1, 0, 2, 0.5, -1.0).unwrap();
    b.add(2, 0, 2, 1.0, 0.0).unwrap();
    let (mdp, _) = b.build().unwrap();
    let objective = Objective::discounted(Sense::Maximize, 0.9).unwrap();
    let sa = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius: 0.3 });
    let a = solve_robust(&sa, MPI, &limits(1e-11)).unwrap().solution;
    let s = solve_robust(
        &sa.with_rectangularity(Rectangularity::S),
        RobustAlgorithm::ValueIteration,
        &limits(1e-11),
    )
    .unwrap()
    .solution;
    for st in 0..3 {
        assert!((a.values[st] - s.values[st]).abs() < 1e-9);
    }
}

/// A two-action state where the s-rectangular optimum randomises: against a shared budget,
/// hedging between two actions that nature would each hurt beats either pure action.
#[test]
fn s_rectangular_randomises() {
    // State 0: actions 0 and 1 each reach a good (value 10) or bad (value 0) terminal state
    // half and half; nature's budget 0.4 can make one of them 0.3/0.7, or split.
    let mut b = MdpBuilder::new();
    b.mark_terminal_with_value(1, 10.0).unwrap();
    b.mark_terminal_with_value(2, 0.0).unwrap();
    for a in 0..2 {
        b.add(0, a, 1, 0.5, 0.0).unwrap();
        b.add(0, a, 2, 0.5, 0.0).unwrap();
    }
    let (mdp, _) = b.build().unwrap();
    let objective = Objective::discounted(Sense::Maximize, 0.5).unwrap();
    let problem = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius: 0.4 })
        .with_rectangularity(Rectangularity::S);
    let r = solve_robust(&problem, RobustAlgorithm::ValueIteration, &limits(1e-12)).unwrap();
    // A pure action: nature spends all of the budget on it: 0.5·(0.3·10) = 1.5.
    // Half and half: nature's budget is worth half as much per unit: 0.5·(0.4·10) = 2.
    println!(
        "s-rectangular hedging: V(s0) = {}, policy {:?}",
        r.solution.values[0],
        r.randomized.as_ref().unwrap()[0]
    );
    assert!((r.solution.values[0] - 2.0).abs() < 1e-9);
    let w = &r.randomized.as_ref().unwrap()[0];
    assert_eq!(w.len(), 2);
    assert!((w[0].1 - 0.5).abs() < 1e-9);
    // The sa-rectangular value: each action's ball of radius 0.4 on its own: 1.5.
    let sa = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius: 0.4 });
    let v = solve_robust(&sa, MPI, &limits(1e-12)).unwrap().solution;
    assert!((v.values[0] - 1.5).abs() < 1e-9);
}

/// Robust evaluation returns a model of the set whose exact value matches the bounds, on
/// random models, and agrees with robust VI for the robust optimal policy.
#[test]
fn robust_evaluation_matches_the_optimum_and_its_worst_case() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..24 {
        let mdp = decide_testkit::small_mdp(7, 3)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let objective = Objective::discounted(Sense::Maximize, 0.9).unwrap();
        for set in [Ambiguity::L1 { radius: 0.3 }, Ambiguity::Kl { radius: 0.1 }] {
            let problem = RobustProblem::new(&mdp, objective, set);
            let r = solve_robust(&problem, MPI, &limits(1e-10)).unwrap();
            let e = evaluate_robust(&problem, &r.solution.policy, &limits(1e-10)).unwrap();
            for s in 0..mdp.n_states() {
                assert!(
                    (e.values[s] - r.solution.values[s]).abs() < 1e-7,
                    "{}: state {s}: {} vs {}",
                    set.describe(),
                    e.values[s],
                    r.solution.values[s]
                );
                assert!(e.lower[s] <= e.upper[s]);
                assert!((e.worst_case_values[s] - e.values[s]).abs() < 1e-7);
            }
            // The worst-case model is in the set.
            check_in_set(&mdp, &e.worst_case, set);
        }
    }
}

fn check_in_set(nominal: &TabularMdp, model: &TabularMdp, set: Ambiguity<'_>) {
    for s in 0..nominal.n_states() {
        for k in nominal.pairs(StateId(s as u32)) {
            let a = nominal.pair_action(k);
            let kk = model.pair_of(StateId(s as u32), a).unwrap();
            let mut p = vec![0.0; nominal.n_states()];
            let mut q = vec![0.0; nominal.n_states()];
            for o in nominal.outcomes(k) {
                p[o.next.index()] += o.probability;
            }
            for o in model.outcomes(kk) {
                assert!(
                    p[o.next.index()] > 0.0 || o.probability == 0.0,
                    "off the support"
                );
                q[o.next.index()] += o.probability;
            }
            match set {
                Ambiguity::L1 { radius } => {
                    let d: f64 = p.iter().zip(&q).map(|(x, y)| (x - y).abs()).sum();
                    assert!(d <= radius + 1e-9, "L1 distance {d} > {radius}");
                }
                Ambiguity::Kl { radius } => {
                    let d = kl_divergence(&q, &p);
                    assert!(d <= radius + 1e-9, "KL {d} > {radius}");
                }
                _ => {}
            }
        }
    }
}

/// A random distribution over `n` outcomes with some zeros, and random outcome values.
fn distribution(n: usize) -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
    (
        proptest::collection::vec((0.0f64..1.0, prop::bool::weighted(0.2)), n),
        proptest::collection::vec(-10.0f64..10.0, n),
    )
        .prop_map(|(raw, w)| {
            let mut p: Vec<f64> = raw
                .iter()
                .map(|&(x, zero)| if zero { 0.0 } else { x + 0.01 })
                .collect();
            if p.iter().all(|&x| x == 0.0) {
                p[0] = 1.0;
            }
            let total: f64 = p.iter().sum();
            p.iter_mut().for_each(|x| *x /= total);
            (p, w)
        })
}

#[cfg(feature = "lp")]
mod lp {
    use super::*;
    use highs::{HighsModelStatus, RowProblem, Sense as HighsSense};

    /// `min wᵀq` over the L1 ball, as an LP: `q ≥ 0`, `Σq = 1`, `t ≥ |q − p|`, `Σt ≤ K`.
    fn l1_by_lp(p: &[f64], w: &[f64], radius: f64) -> f64 {
        let mut lp = RowProblem::default();
        let q: Vec<_> = w.iter().map(|&c| lp.add_column(c, 0.0..=1.0)).collect();
        let t: Vec<_> = p.iter().map(|_| lp.add_column(0.0, 0.0..)).collect();
        lp.add_row(1.0..=1.0, q.iter().map(|&c| (c, 1.0)));
        lp.add_row(..=radius, t.iter().map(|&c| (c, 1.0)));
        for j in 0..p.len() {
            lp.add_row(..=p[j], [(q[j], 1.0), (t[j], -1.0)]);
            lp.add_row(..=-p[j], [(q[j], -1.0), (t[j], -1.0)]);
        }
        let mut model = lp.optimise(HighsSense::Minimise);
        model.make_quiet();
        model.set_option("primal_feasibility_tolerance", 1e-10);
        model.set_option("dual_feasibility_tolerance", 1e-10);
        let solved = model.solve();
        assert_eq!(solved.status(), HighsModelStatus::Optimal);
        solved.objective_value()
    }

    fn interval_by_lp(low: &[f64], high: &[f64], w: &[f64]) -> f64 {
        let mut lp = RowProblem::default();
        let q: Vec<_> = (0..w.len())
            .map(|j| lp.add_column(w[j], low[j]..=high[j]))
            .collect();
        lp.add_row(1.0..=1.0, q.iter().map(|&c| (c, 1.0)));
        let mut model = lp.optimise(HighsSense::Minimise);
        model.make_quiet();
        let solved = model.solve();
        assert_eq!(solved.status(), HighsModelStatus::Optimal);
        solved.objective_value()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// The O(n log n) L1 step equals HiGHS's LP optimum, over the nominal support
        /// (zero-probability outcomes are part of the support, as in a model file).
        #[test]
        fn l1_step_equals_the_lp(
            (p, w) in (1usize..9).prop_flat_map(distribution),
            radius in 0.0f64..2.2,
        ) {
            let mut out = vec![0.0; p.len()];
            let mut order = Vec::new();
            let fast = l1_worst(&p, &w, radius, &mut order, &mut out);
            let lp = l1_by_lp(&p, &w, radius);
            prop_assert!((fast - lp).abs() <= 1e-8, "fast {fast}, LP {lp}");
            let d: f64 = p.iter().zip(&out).map(|(a, b)| (a - b).abs()).sum();
            prop_assert!(d <= radius + 1e-12);
            prop_assert!((out.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(out.iter().all(|&x| x >= 0.0));
            prop_assert!((dot(&out, &w) - fast).abs() < 1e-12);
            // The segments describe the same function of the radius.
            let mut segments = Vec::new();
            l1_segments(&p, &w, &mut order, &mut segments);
            let mut value = dot(&p, &w);
            let mut left = radius;
            for (len, slope) in segments {
                let take = len.min(left);
                value += slope * take;
                left -= take;
            }
            prop_assert!((value - fast).abs() < 1e-9, "segments {value}, step {fast}");
        }

        /// The interval step equals the LP optimum.
        #[test]
        fn interval_step_equals_the_lp(
            (p, w) in (1usize..9).prop_flat_map(distribution),
            spread in proptest::collection::vec((0.0f64..0.3, 0.0f64..0.3), 9),
        ) {
            let low: Vec<f64> = p.iter().zip(&spread).map(|(x, s)| (x - s.0).max(0.0)).collect();
            let high: Vec<f64> = p.iter().zip(&spread).map(|(x, s)| (x + s.1).min(1.0)).collect();
            let mut out = vec![0.0; p.len()];
            let fast = interval_worst(&low, &high, &w, &mut Vec::new(), &mut out);
            let lp = interval_by_lp(&low, &high, &w);
            prop_assert!((fast - lp).abs() <= 1e-8, "fast {fast}, LP {lp}");
        }
    }
}

/// An independent solve of the KL dual: golden-section search of the concave
/// `g(λ) = −λ log Σ p e^{−w/λ} − λK` over `log λ`.
fn kl_dual_by_golden_section(p: &[f64], w: &[f64], radius: f64) -> f64 {
    let w_min = p
        .iter()
        .zip(w)
        .filter(|(p, _)| **p > 0.0)
        .map(|(_, w)| *w)
        .fold(f64::INFINITY, f64::min);
    let g = |log_lambda: f64| {
        let lambda = log_lambda.exp();
        let z: f64 = p
            .iter()
            .zip(w)
            .filter(|(p, _)| **p > 0.0)
            .map(|(p, w)| p * (-(w - w_min) / lambda).exp())
            .sum();
        w_min - lambda * z.ln() - lambda * radius
    };
    let (mut a, mut b) = (-40.0f64, 40.0f64);
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..300 {
        let c = b - phi * (b - a);
        let d = a + phi * (b - a);
        if g(c) > g(d) {
            b = d;
        } else {
            a = c;
        }
    }
    g((a + b) / 2.0).max(w_min)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The KL step agrees with an independent convex (dual) solve, returns a feasible
    /// distribution, and no random point of the ball does better.
    #[test]
    fn kl_step_agrees_with_a_convex_solve(
        (p, w) in (1usize..9).prop_flat_map(distribution),
        radius in 0.0f64..1.5,
        probes in proptest::collection::vec(proptest::collection::vec(0.0f64..1.0, 9), 20),
    ) {
        let mut out = vec![0.0; p.len()];
        let step = kl_worst(&p, &w, radius, &mut out);
        let reference = if radius == 0.0 { dot(&p, &w) } else { kl_dual_by_golden_section(&p, &w, radius) };
        prop_assert!((step.value - reference).abs() <= 1e-7 * (1.0 + reference.abs()),
            "step {:?}, golden section {reference}", step);
        prop_assert!(step.gap <= 1e-8 * (1.0 + reference.abs()), "gap {}", step.gap);
        prop_assert!(kl_divergence(&out, &p) <= radius + 1e-9);
        prop_assert!((dot(&out, &w) - step.value).abs() < 1e-9 * (1.0 + step.value.abs()));
        // Random points of the ball: mix p with a random distribution on its support, as far
        // as the ball allows.
        for probe in probes {
            let mut r: Vec<f64> = p.iter().zip(&probe).map(|(&x, &y)| if x > 0.0 { y + 1e-3 } else { 0.0 }).collect();
            let total: f64 = r.iter().sum();
            r.iter_mut().for_each(|x| *x /= total);
            let mut t = 1.0;
            let mix = |t: f64| -> Vec<f64> { p.iter().zip(&r).map(|(a, b)| (1.0 - t) * a + t * b).collect() };
            while kl_divergence(&mix(t), &p) > radius && t > 1e-12 {
                t /= 2.0;
            }
            let q = mix(t);
            prop_assert!(dot(&q, &w) >= step.value - step.gap - 1e-9 * (1.0 + step.value.abs()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// The static model and IWOCS (digest `shared/papers/mdp-04-iwocs.md`, section 5).
// ---------------------------------------------------------------------------------------

use decide_solve::robust::{IwocsOptions, PolicyStep, StaticSet, iwocs};

/// A deterministic stream of uniforms in [0, 1) (SplitMix64), for reproducible instances.
struct Stream(u64, u64);

impl Stream {
    fn next(&mut self) -> f64 {
        let word = decide_core::generate::splitmix64(self.0, self.1);
        self.1 += 1;
        (word >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The digest's random instance: `n` states, `m` actions everywhere, a dense random kernel
/// (about one next state in four left out), rewards in [0, 1] per pair.
fn random_dense_mdp(n: usize, m: usize, seed: u64) -> TabularMdp {
    let mut rng = Stream(seed, 0);
    let mut b = MdpBuilder::new();
    b.declare_states(n as u64).unwrap();
    for s in 0..n {
        for a in 0..m {
            let reward = rng.next();
            let mut weights: Vec<f64> = (0..n)
                .map(|_| {
                    let keep = rng.next() >= 0.25;
                    let w = rng.next();
                    if keep { w + 0.01 } else { 0.0 }
                })
                .collect();
            if weights.iter().all(|&w| w == 0.0) {
                weights[s] = 1.0;
            }
            let total: f64 = weights.iter().sum();
            let mut left = 1.0;
            let last = weights.iter().rposition(|&w| w > 0.0).unwrap();
            for (t, &w) in weights.iter().enumerate() {
                if w > 0.0 {
                    let p = if t == last { left } else { w / total };
                    left -= p;
                    b.add(s as u64, a as u64, t as u64, p, reward).unwrap();
                }
            }
        }
    }
    b.build().unwrap().0
}

/// Digest test 1 and 2 (bracket and convergence): S = 10, A = 3, γ = 0.9, sa-rectangular L1
/// balls of radius 0.2. Every IWOCS iteration brackets robust value iteration's V(s0), the
/// upper end never increases, the best lower end reaches V_RVI(s0) − 1e-3 within 50
/// iterations, and the returned policy's exact robust value (robust policy evaluation) is
/// that lower end. Both policy steps (the paper's greedy one and the exact one).
#[test]
fn iwocs_brackets_robust_value_iteration() {
    for seed in [1u64, 2, 3] {
        let mdp = random_dense_mdp(10, 3, seed);
        let objective = Objective::discounted(Sense::Maximize, 0.9).unwrap();
        let problem = RobustProblem::new(&mdp, objective, Ambiguity::L1 { radius: 0.2 });
        let rvi = solve_robust(&problem, RobustAlgorithm::ValueIteration, &limits(1e-10))
            .unwrap()
            .solution;
        assert!(rvi.report.is_converged());
        let v_rvi = rvi.values[0];
        for step in [PolicyStep::Greedy, PolicyStep::Exact { node_limit: 2_000 }] {
            let options = IwocsOptions {
                initial_state: 0,
                max_iterations: 50,
                tolerance: 1e-9,
                policy_step: step,
            };
            let result = iwocs(&StaticSet::Rectangular(problem), objective, &options).unwrap();
            println!(
                "bracket seed {seed} {step:?}: V_RVI(s0) = {v_rvi:.12}, IWOCS [{:.12}, {:.12}] after {} iterations, converged {}",
                result.lower,
                result.upper,
                result.history.len(),
                result.converged
            );
            let mut previous_upper = f64::INFINITY;
            for (i, it) in result.history.iter().enumerate() {
                assert!(
                    it.lower <= v_rvi + 1e-8,
                    "iteration {i}: lower {} > {v_rvi}",
                    it.lower
                );
                assert!(
                    it.upper >= v_rvi - 1e-8,
                    "iteration {i}: upper {} < {v_rvi}",
                    it.upper
                );
                assert!(it.upper <= previous_upper, "iteration {i}: upper increased");
                previous_upper = it.upper;
            }
            assert!(result.history.len() <= 50);
            let best = result
                .history
                .iter()
                .map(|it| it.lower)
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(best, result.lower);
            assert!(
                result.lower >= v_rvi - 1e-3,
                "lower {} vs {v_rvi}",
                result.lower
            );
            // The policy attaining it: its exact robust value is the lower end.
            let e = evaluate_robust(&problem, &result.policy, &limits(1e-11)).unwrap();
            println!(
                "  returned policy: robust evaluation {:.12}, worst-case model value {:.12}",
                e.values[0], e.worst_case_values[0]
            );
            assert!((e.values[0] - result.lower).abs() <= 1e-8);
            assert!(e.lower[0] <= v_rvi + 1e-9);
        }
    }
}

/// Digest test 3 (degenerate case): radius 0 stops after one iteration with the nominal
/// optimal policy, whose value is the nominal optimum (policy iteration) at s0.
#[test]
fn iwocs_radius_zero_is_the_nominal_problem() {
    let mdp = random_dense_mdp(10, 3, 7);
    let objective = Objective::discounted(Sense::Maximize, 0.9).unwrap();
    let nominal = solve(
        &Problem::new(&mdp, objective),
        Algorithm::PolicyIteration,
        &limits(1e-12),
    )
    .unwrap();
    for radius_zero in [Ambiguity::L1 { radius: 0.0 }, Ambiguity::Kl { radius: 0.0 }] {
        let problem = RobustProblem::new(&mdp, objective, radius_zero);
        for step in [PolicyStep::Greedy, PolicyStep::Exact { node_limit: 2_000 }] {
            let options = IwocsOptions {
                policy_step: step,
                ..IwocsOptions::default()
            };
            let result = iwocs(&StaticSet::Rectangular(problem), objective, &options).unwrap();
            println!(
                "degenerate {} {step:?}: {} iteration(s), [{:.12}, {:.12}], nominal V*(s0) = {:.12}",
                radius_zero.describe(),
                result.history.len(),
                result.lower,
                result.upper,
                nominal.values[0]
            );
            assert_eq!(result.history.len(), 1);
            assert!(result.converged);
            assert_eq!(result.worst_cases.len(), 1);
            let value = decide_testkit::policy_value(&mdp, 0.9, &result.policy);
            for s in 0..mdp.n_states() {
                assert!((value[s] - nominal.values[s]).abs() < 1e-9, "state {s}");
            }
            assert!((result.lower - nominal.values[0]).abs() < 1e-9);
            assert!((result.upper - nominal.values[0]).abs() < 1e-9);
        }
    }
}

/// The windy walk of the digest (test 4, reconstructed): a grid of 5 rows and 7 columns; the
/// top row is a cliff (−20 and back to the start), start and goal at the two ends of the
/// bottom row, −1 per step, discount 0.95. Each step the agent moves as intended (walls
/// stop it) and then, with probability ψ, the wind pushes it one row up. States are the
/// cells of rows 1..4 (row 0 is never occupied): `(row − 1)·7 + column`.
struct WindyGrid;

impl WindyGrid {
    const ROWS: usize = 5;
    const COLS: usize = 7;
    const START: usize = (Self::ROWS - 2) * Self::COLS; // row 4, column 0
    const GOAL: usize = (Self::ROWS - 2) * Self::COLS + Self::COLS - 1; // row 4, column 6
    const WINDS: [f64; 9] = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4];

    /// The model for wind `psi`; with `cliff_count`, the reward is 1 per fall instead
    /// (to count the discounted number of falls of a policy).
    fn model(psi: f64, cliff_count: bool) -> TabularMdp {
        let mut b = MdpBuilder::new();
        let n = (Self::ROWS - 1) * Self::COLS;
        b.declare_states(n as u64).unwrap();
        b.declare_actions(4).unwrap();
        b.mark_terminal(Self::GOAL as u64).unwrap();
        for s in 0..n {
            if s == Self::GOAL {
                continue;
            }
            let (row, col) = (s / Self::COLS + 1, s % Self::COLS);
            // 0 up, 1 right, 2 down, 3 left.
            for (a, (dr, dc)) in [(-1i64, 0i64), (0, 1), (1, 0), (0, -1)]
                .into_iter()
                .enumerate()
            {
                let r = (row as i64 + dr).clamp(0, Self::ROWS as i64 - 1) as usize;
                let c = (col as i64 + dc).clamp(0, Self::COLS as i64 - 1) as usize;
                for (land_row, p) in [(r, 1.0 - psi), (r.saturating_sub(1), psi)] {
                    if p == 0.0 {
                        continue;
                    }
                    let (next, reward) = if land_row == 0 {
                        (Self::START, if cliff_count { 1.0 } else { -20.0 })
                    } else {
                        (
                            (land_row - 1) * Self::COLS + c,
                            if cliff_count { 0.0 } else { -1.0 },
                        )
                    };
                    b.add(s as u64, a as u64, next as u64, p, reward).unwrap();
                }
            }
        }
        b.build().unwrap().0
    }
}

/// Digest test 4: IWOCS on the windy walk with ψ ∈ {0, 0.05, …, 0.4} as a static finite
/// family finds ψ = 0.4 within two iterations, returns a policy worth V*_{ψ=0.4}(s0) (the
/// optimum of that model, by policy iteration), which scores no less under every ψ, and
/// falls off the cliff no more often than the nominal (ψ = 0) optimal policy.
#[test]
fn iwocs_windy_walk() {
    let family: Vec<TabularMdp> = WindyGrid::WINDS
        .iter()
        .map(|&psi| WindyGrid::model(psi, false))
        .collect();
    let discount = 0.95;
    let objective = Objective::discounted(Sense::Maximize, discount).unwrap();
    let optimum = |m: &TabularMdp| {
        solve(
            &Problem::new(m, objective),
            Algorithm::PolicyIteration,
            &limits(1e-12),
        )
        .unwrap()
    };
    let nominal = optimum(&family[0]);
    let windiest = optimum(&family[8]);
    // Without wind the walk along the bottom row takes 6 steps: −(1 − γ⁶)/(1 − γ).
    let closed_form = -(1.0 - discount.powi(6)) / (1.0 - discount);
    assert!((nominal.values[WindyGrid::START] - closed_form).abs() < 1e-10);
    let options = IwocsOptions {
        initial_state: WindyGrid::START,
        ..IwocsOptions::default()
    };
    let result = iwocs(&StaticSet::Finite(&family), objective, &options).unwrap();
    let found = result.family_index.clone().unwrap();
    println!(
        "windy walk: nominal V*(s0) = {:.9} (closed form {closed_form:.9}), V*_0.4(s0) = {:.9}; IWOCS [{:.9}, {:.9}] after {} iterations, models found (ψ) {:?}",
        nominal.values[WindyGrid::START],
        windiest.values[WindyGrid::START],
        result.lower,
        result.upper,
        result.history.len(),
        found
            .iter()
            .map(|&m| WindyGrid::WINDS[m])
            .collect::<Vec<_>>()
    );
    assert!(result.converged);
    assert!(result.history.len() <= 2);
    assert_eq!(
        found.get(1),
        Some(&8),
        "ψ = 0.4 is the first worst case found"
    );
    let target = windiest.values[WindyGrid::START];
    assert!((result.lower - target).abs() < 1e-8);
    assert!((result.upper - target).abs() < 1e-8);
    // The returned policy under every wind: never below the robust value.
    for (m, model) in family.iter().enumerate() {
        let v = decide_testkit::policy_value(model, discount, &result.policy)[WindyGrid::START];
        println!("  ψ = {:.2}: robust policy {v:.9}", WindyGrid::WINDS[m]);
        assert!(v >= target - 1e-9);
    }
    // Discounted expected number of falls from the start, in the windiest model.
    let counts = WindyGrid::model(0.4, true);
    let falls = |policy: &[Option<ActionId>]| {
        decide_testkit::policy_value(&counts, discount, policy)[WindyGrid::START]
    };
    let (robust_falls, nominal_falls) = (falls(&result.policy), falls(&nominal.policy));
    println!(
        "  falls at ψ = 0.4: robust policy {robust_falls:.6}, nominal policy {nominal_falls:.6}"
    );
    assert!(robust_falls <= nominal_falls + 1e-12);
}

/// A random tiny static family: 2..=5 states, 1..=2 actions per state (the same in every
/// model), 1..=4 models with their own kernels and rewards, sometimes a terminal state.
fn tiny_family() -> impl Strategy<Value = Vec<TabularMdp>> {
    (
        2usize..=5,
        1usize..=4,
        any::<u64>(),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(n, models, seed, with_terminal)| {
            let mut rng = Stream(seed, 0);
            let actions: Vec<usize> = (0..n).map(|_| 1 + (rng.next() < 0.6) as usize).collect();
            let terminal = with_terminal.then_some(n - 1);
            (0..models)
                .map(|_| {
                    let mut b = MdpBuilder::new();
                    b.declare_states(n as u64).unwrap();
                    if let Some(t) = terminal {
                        b.mark_terminal_with_value(t as u64, 5.0).unwrap();
                    }
                    for s in 0..n {
                        if Some(s) == terminal {
                            continue;
                        }
                        for a in 0..actions[s] {
                            let weights: Vec<f64> = (0..n)
                                .map(|_| {
                                    if rng.next() < 0.3 {
                                        0.0
                                    } else {
                                        rng.next() + 0.05
                                    }
                                })
                                .collect();
                            let total: f64 = weights.iter().sum();
                            if total == 0.0 {
                                b.add(s as u64, a as u64, s as u64, 1.0, 10.0 * rng.next() - 5.0)
                                    .unwrap();
                                continue;
                            }
                            for (t, w) in weights.iter().enumerate() {
                                if *w > 0.0 {
                                    let r = 10.0 * rng.next() - 5.0;
                                    b.add(s as u64, a as u64, t as u64, w / total, r).unwrap();
                                }
                            }
                        }
                    }
                    b.options(decide_core::ValidationOptions::with_tolerance(1e-12));
                    b.build().unwrap().0
                })
                .collect()
        })
}

/// Brute force of the static robust value at s0: the best, over every deterministic
/// stationary policy, of its worst value over the models (dense LU per policy and model).
fn brute_force_static(family: &[TabularMdp], sense: Sense, discount: f64) -> f64 {
    let first = &family[0];
    let n = first.n_states();
    let choices: Vec<Vec<Option<ActionId>>> = (0..n)
        .map(|s| {
            let acts: Vec<_> = first.actions(StateId(s as u32)).map(Some).collect();
            if acts.is_empty() { vec![None] } else { acts }
        })
        .collect();
    let total: usize = choices.iter().map(Vec::len).product();
    let mut best: Option<f64> = None;
    let mut index = vec![0usize; n];
    for _ in 0..total {
        let policy: Vec<_> = (0..n).map(|s| choices[s][index[s]]).collect();
        let worst = family
            .iter()
            .map(|m| decide_testkit::policy_value(m, discount, &policy)[0])
            .reduce(|x, y| if sense.better(x, y) { y } else { x })
            .unwrap();
        best = Some(match best {
            Some(b) if !sense.better(worst, b) => b,
            _ => worst,
        });
        for s in 0..n {
            index[s] += 1;
            if index[s] < choices[s].len() {
                break;
            }
            index[s] = 0;
        }
    }
    best.unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// IWOCS on random tiny families equals brute force (max over deterministic policies of
    /// the min over models, at s0), its policy attains it, and it is never worse than the
    /// sa-rectangular robust value of the same family (a stronger nature).
    #[test]
    fn iwocs_equals_brute_force_on_tiny_families(
        family in tiny_family(),
        discount in 0.5f64..0.95,
        minimize in prop::bool::weighted(0.25),
    ) {
        let sense = if minimize { Sense::Minimize } else { Sense::Maximize };
        let objective = Objective::discounted(sense, discount).unwrap();
        let brute = brute_force_static(&family, sense, discount);
        let result = iwocs(&StaticSet::Finite(&family), objective, &IwocsOptions::default()).unwrap();
        let scale = 1.0 + brute.abs();
        prop_assert!(result.converged);
        prop_assert!((result.lower - brute).abs() <= 1e-8 * scale, "IWOCS lower {} vs brute force {brute}", result.lower);
        prop_assert!((result.upper - brute).abs() <= 1e-8 * scale, "IWOCS upper {} vs brute force {brute}", result.upper);
        // The returned policy attains it.
        let attained = family
            .iter()
            .map(|m| decide_testkit::policy_value(m, discount, &result.policy)[0])
            .reduce(|x, y| if sense.better(x, y) { y } else { x })
            .unwrap();
        prop_assert!((attained - brute).abs() <= 1e-9 * scale);
        // The sa-rectangular robust value of the same family: nature may mix the models per
        // (state, action), so the static value is at least as good for the agent.
        let rect = RobustProblem::new(&family[0], objective, Ambiguity::Finite(&family));
        let r = solve_robust(&rect, MPI, &limits(1e-9)).unwrap().solution;
        prop_assert!(r.report.is_converged(), "{}", r.report.status);
        let rect_value = match sense { Sense::Maximize => r.upper[0], Sense::Minimize => r.lower[0] };
        let slack = if minimize { -1e-9 * scale } else { 1e-9 * scale };
        prop_assert!(!sense.better(rect_value, brute + slack),
            "rectangular {rect_value} better than static {brute}");
    }
}

/// The KL step's bracket contains the exact answer for radii down to the smallest: two
/// outcomes p = (0.9, 0.1), w = (13.5, 0), whose minimum is 13.5·(0.9 − d) with d solving
/// KL((0.9 − d, 0.1 + d) ‖ p) = K, computed here with `ln_1p` so that it stays exact where
/// the dual in `log Z` loses digits (small radii, large λ).
#[test]
fn kl_step_brackets_the_closed_form_for_tiny_radii() {
    let p = [0.9, 0.1];
    let w = [13.5, 0.0];
    let kl = |d: f64| (0.9 - d) * (-d / 0.9).ln_1p() + (0.1 + d) * (d / 0.1).ln_1p();
    for radius in [
        1e-1, 1e-2, 1e-4, 1e-8, 1e-10, 1e-12, 1e-14, 1e-16, 1e-20, 1e-30, 1e-300,
    ] {
        let (mut lo, mut hi) = (0.0f64, 0.9f64);
        for _ in 0..3000 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if kl(mid) > radius {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let truth = 13.5 * 0.9 - 13.5 * lo;
        let mut out = [0.0; 2];
        let step = kl_worst(&p, &w, radius, &mut out);
        let slack = 4.0 * f64::EPSILON * 13.5;
        println!(
            "K = {radius:e}: truth {truth:.17}, step [{:.17}, {:.17}]",
            step.value - step.gap,
            step.value
        );
        assert!(
            step.value - step.gap - slack <= truth && truth <= step.value + slack,
            "K = {radius:e}: truth {truth} outside [{}, {}]",
            step.value - step.gap,
            step.value
        );
        assert!(step.gap <= 1e-9, "K = {radius:e}: gap {}", step.gap);
    }
}
