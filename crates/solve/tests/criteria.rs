//! Total reward, finite horizon and average reward against answers known by hand, from the
//! literature, or from an independent computation in the test.

use decide_core::{ActionId, Interrupt, Limits, MdpBuilder, Objective, Sense, Status, TabularMdp};
use decide_solve::{Algorithm, Problem, solve};

fn limits() -> Limits {
    Limits {
        tolerance: 1e-9,
        ..Limits::default()
    }
}

/// s0: `stay` (self-loop, −1) and `go` (to the goal, −1); the goal is absorbing with reward 0.
fn stay_or_go() -> TabularMdp {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 1.0, -1.0).unwrap(); // stay
    b.add(0, 1, 1, 1.0, -1.0).unwrap(); // go
    b.add(1, 0, 1, 1.0, 0.0).unwrap();
    b.add(1, 1, 1, 1.0, 0.0).unwrap();
    b.build().unwrap().0
}

#[test]
fn total_reward_shortest_path_every_algorithm() {
    let mdp = stay_or_go();
    let problem = Problem::new(&mdp, Objective::total(Sense::Maximize));
    for algorithm in [
        Algorithm::Auto,
        Algorithm::PolicyIteration,
        Algorithm::ValueIteration,
    ] {
        let s = solve(&problem, algorithm, &limits()).unwrap();
        assert_eq!(
            s.report.status,
            Status::Converged,
            "{algorithm}: {:?}",
            s.report
        );
        assert!(
            (s.values[0] + 1.0).abs() < 1e-12,
            "{algorithm}: {:?}",
            s.values
        );
        assert_eq!(s.values[1], 0.0);
        assert_eq!(s.policy[0], Some(ActionId(1)), "{algorithm}");
        assert!(s.lower[0] <= -1.0 && -1.0 <= s.upper[0]);
    }
}

#[test]
fn policy_iteration_from_an_improper_policy_reports_it_and_terminates() {
    let mdp = stay_or_go();
    let problem = Problem::new(&mdp, Objective::total(Sense::Maximize));
    let start = [Some(ActionId(0)), Some(ActionId(0))];
    let s = decide_solve::total::solve_total(
        &problem,
        Algorithm::PolicyIteration,
        &limits(),
        &mut (),
        &Interrupt::new(),
        Some(&start),
    )
    .unwrap();
    assert_eq!(s.report.status, Status::Converged);
    assert!((s.values[0] + 1.0).abs() < 1e-12);
    assert_eq!(s.policy[0], Some(ActionId(1)));
    let notes = s.report.notes.join("\n");
    assert!(
        notes.contains("improper") && notes.contains("s0"),
        "{notes}"
    );
}

/// 4×4 grid, corners 0 and 15 absorbing, −1 per move, walls keep you in place.
fn grid() -> TabularMdp {
    let mut b = MdpBuilder::new();
    for s in 0..16i64 {
        let (r, c) = (s / 4, s % 4);
        for (a, (dr, dc)) in [(-1i64, 0i64), (1, 0), (0, -1), (0, 1)]
            .into_iter()
            .enumerate()
        {
            if s == 0 || s == 15 {
                b.add(s as u64, a as u64, s as u64, 1.0, 0.0).unwrap();
                continue;
            }
            let (nr, nc) = (r + dr, c + dc);
            let next = if (0..4).contains(&nr) && (0..4).contains(&nc) {
                nr * 4 + nc
            } else {
                s
            };
            b.add(s as u64, a as u64, next as u64, 1.0, -1.0).unwrap();
        }
    }
    b.build().unwrap().0
}

#[test]
fn grid_values_are_minus_the_distance_to_the_nearest_corner() {
    let mdp = grid();
    let problem = Problem::new(&mdp, Objective::total(Sense::Maximize));
    for algorithm in [Algorithm::PolicyIteration, Algorithm::ValueIteration] {
        let s = solve(&problem, algorithm, &limits()).unwrap();
        assert_eq!(s.report.status, Status::Converged, "{algorithm}");
        for st in 0..16i64 {
            let (r, c) = (st / 4, st % 4);
            let distance = (r + c).min((3 - r) + (3 - c));
            assert!(
                (s.values[st as usize] + distance as f64).abs() < 1e-9,
                "{algorithm}: state {st}: {}",
                s.values[st as usize]
            );
        }
    }
}

#[test]
fn no_proper_policy_is_an_error_naming_the_states() {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 1, 1.0, -1.0).unwrap();
    b.add(1, 0, 0, 1.0, -1.0).unwrap();
    let mdp = b.build().unwrap().0;
    let e = solve(
        &Problem::new(&mdp, Objective::total(Sense::Maximize)),
        Algorithm::Auto,
        &limits(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("s0, s1"), "{e}");
}

#[test]
fn value_iteration_reports_unbounded_total_reward() {
    // Maximising: a reward-1 loop that never terminates beside a way out.
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 1.0, 1.0).unwrap();
    b.add(0, 1, 1, 1.0, 0.0).unwrap();
    b.add(1, 0, 1, 1.0, 0.0).unwrap();
    let mdp = b.build().unwrap().0;
    let s = solve(
        &Problem::new(&mdp, Objective::total(Sense::Maximize)),
        Algorithm::ValueIteration,
        &limits(),
    )
    .unwrap();
    assert_eq!(s.report.status, Status::ImproperPolicy);
    assert!(s.report.notes.join(" ").contains("s0"));
}

/// pymdptoolbox issue #37: P[a][s][s'] and R[s][a].
fn issue_37() -> TabularMdp {
    let p = [
        [[0.25, 0.25, 0.5], [0.75, 0.0, 0.25], [0.5, 0.5, 0.0]],
        [[0.0, 0.25, 0.75], [0.25, 0.0, 0.75], [0.25, 0.25, 0.5]],
    ];
    let r = [[0.55, 0.75], [1.0, 0.8], [1.2, 1.0]];
    let mut b = MdpBuilder::new();
    for s in 0..3 {
        for a in 0..2 {
            for n in 0..3 {
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
fn average_reward_gain_of_pymdptoolbox_issue_37() {
    let mdp = issue_37();
    for (sense, expected) in [(Sense::Maximize, 36.1 / 37.0), (Sense::Minimize, 0.8425)] {
        for algorithm in [
            Algorithm::Auto,
            Algorithm::PolicyIteration,
            Algorithm::ValueIteration,
        ] {
            let s = solve(
                &Problem::new(&mdp, Objective::average(sense)),
                algorithm,
                &limits(),
            )
            .unwrap();
            assert_eq!(
                s.report.status,
                Status::Converged,
                "{sense} {algorithm}: {:?}",
                s.report
            );
            let gain = s.gain.unwrap();
            assert!(
                (gain.value - expected).abs() < 1e-8,
                "{sense} {algorithm}: {gain:?} vs {expected}"
            );
            assert!(gain.lower <= expected + 1e-12 && expected <= gain.upper + 1e-12);
            assert_eq!(s.values[0], 0.0, "bias normalised at state 0");
        }
    }
}

#[test]
fn multichain_model_is_reported() {
    // Two absorbing states with different rewards: the gain depends on where you start.
    let mut b = MdpBuilder::new();
    b.add(0, 0, 0, 1.0, 1.0).unwrap();
    b.add(1, 0, 1, 1.0, 2.0).unwrap();
    let mdp = b.build().unwrap().0;
    for algorithm in [Algorithm::PolicyIteration, Algorithm::ValueIteration] {
        let s = solve(
            &Problem::new(&mdp, Objective::average(Sense::Maximize)),
            algorithm,
            &limits(),
        )
        .unwrap();
        assert_eq!(s.report.status, Status::Multichain, "{algorithm}");
        assert!(s.report.notes.join(" ").contains("multichain"));
    }
}

/// pymdptoolbox's forest(S=3, r1=4, r2=2, p=0.1).
fn forest() -> TabularMdp {
    let mut b = MdpBuilder::new();
    let (p, r1, r2) = (0.1, 4.0, 2.0);
    for s in 0..3u64 {
        // wait: to 0 with p, else one older (the oldest stays)
        let older = (s + 1).min(2);
        b.add(s, 0, 0, p, if s == 2 { r1 } else { 0.0 }).unwrap();
        b.add(s, 0, older, 1.0 - p, if s == 2 { r1 } else { 0.0 })
            .unwrap();
        // cut: back to 0
        let cut = match s {
            0 => 0.0,
            1 => 1.0,
            _ => r2,
        };
        b.add(s, 1, 0, 1.0, cut).unwrap();
    }
    b.build().unwrap().0
}

#[test]
fn finite_horizon_forest_matches_an_independent_backward_induction() {
    let mdp = forest();
    for discount in [1.0, 0.96] {
        let horizon = 7;
        let s = solve(
            &Problem::new(
                &mdp,
                Objective::finite_horizon(Sense::Maximize, horizon, discount).unwrap(),
            ),
            Algorithm::Auto,
            &limits(),
        )
        .unwrap();
        // Independent: dense P[a][s][s'] and R[s][a] loops.
        let p = [
            [[0.1, 0.9, 0.0], [0.1, 0.0, 0.9], [0.1, 0.0, 0.9]],
            [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
        ];
        let r = [[0.0, 0.0], [0.0, 1.0], [4.0, 2.0]];
        let mut v = [0.0f64; 3];
        let mut stages = Vec::new();
        for _ in 0..horizon {
            let mut next = [0.0f64; 3];
            for st in 0..3 {
                next[st] = (0..2)
                    .map(|a| r[st][a] + discount * (0..3).map(|n| p[a][st][n] * v[n]).sum::<f64>())
                    .fold(f64::NEG_INFINITY, f64::max);
            }
            v = next;
            stages.push(v);
        }
        stages.reverse();
        for st in 0..3 {
            assert!(
                (s.values[st] - v[st]).abs() < 1e-12,
                "γ={discount}: {:?} vs {v:?}",
                s.values
            );
        }
        let plan = s.stages.unwrap();
        assert_eq!(plan.values.len(), horizon as usize);
        for t in 0..horizon as usize {
            for st in 0..3 {
                assert!((plan.values[t][st] - stages[t][st]).abs() < 1e-12);
            }
        }
    }
}

#[test]
fn finite_horizon_terminal_value() {
    let mut b = MdpBuilder::new();
    b.add(0, 0, 1, 1.0, -1.0).unwrap();
    b.mark_terminal_with_value(1, 100.0).unwrap();
    let mdp = b.build().unwrap().0;
    let s = solve(
        &Problem::new(
            &mdp,
            Objective::finite_horizon(Sense::Maximize, 3, 0.9).unwrap(),
        ),
        Algorithm::Auto,
        &limits(),
    )
    .unwrap();
    assert!((s.values[0] - 89.0).abs() < 1e-12, "{:?}", s.values);
}
