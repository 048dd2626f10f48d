//! Every shipped reference case (testdata/mdp, from gymnasium, pymdptoolbox and the
//! splitmix-sparse generator, with values computed by two third-party solvers) solved by
//! every algorithm and checked against the reference values, by value.

use decide_core::{Limits, Objective, Sense, StateId};
use decide_io::{ReadOptions, read_model};
use decide_solve::{Algorithm, Problem, solve};
use decide_testkit::q_value;
use std::path::PathBuf;

const CASES: [&str; 5] = [
    "frozenlake4x4_slippery",
    "frozenlake8x8_slippery",
    "forest_S3",
    "forest_S1000",
    "random_N2000_A4_B5_seed42",
];

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/mdp")
        .join(name)
}

fn reference(case: &str) -> (Vec<f64>, f64) {
    let text = std::fs::read_to_string(testdata(&format!("{case}.reference.json"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = json["V"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    (v, json["tie_tolerance"].as_f64().unwrap_or(1e-9))
}

#[test]
fn every_case_every_algorithm_matches_the_reference() {
    for case in CASES {
        let model = read_model(
            &testdata(&format!("{case}.transitions.csv")),
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(model.discount, Some(0.99));
        let objective =
            Objective::discounted(model.sense.unwrap_or(Sense::Maximize), 0.99).unwrap();
        let problem = Problem::new(&model.mdp, objective);
        let (v_ref, tie) = reference(case);
        assert_eq!(v_ref.len(), model.mdp.n_states());
        for algorithm in Algorithm::ALL {
            let limits = Limits {
                tolerance: 1e-7,
                ..Limits::default()
            };
            let solution = solve(&problem, algorithm, &limits).unwrap();
            let label = format!("{case} / {algorithm}");
            assert!(
                solution.report.is_converged(),
                "{label}: {:?}",
                solution.report
            );
            for s in 0..v_ref.len() {
                assert!(
                    (solution.values[s] - v_ref[s]).abs() <= 1e-6,
                    "{label}: state {s}: {} vs {}",
                    solution.values[s],
                    v_ref[s]
                );
                assert!(
                    solution.lower[s] <= v_ref[s] && v_ref[s] <= solution.upper[s],
                    "{label}: state {s}: reference {} outside [{}, {}]",
                    v_ref[s],
                    solution.lower[s],
                    solution.upper[s]
                );
                // Optimal by value: the chosen action's Q (from the reference V) is within the
                // tie tolerance of the best Q (action ids alone cannot be compared: ties).
                let state = StateId(s as u32);
                let best = model
                    .mdp
                    .actions(state)
                    .map(|a| q_value(&model.mdp, 0.99, state, a, &v_ref))
                    .fold(f64::NEG_INFINITY, f64::max);
                let chosen = q_value(&model.mdp, 0.99, state, solution.policy[s].unwrap(), &v_ref);
                assert!(
                    chosen >= best - tie,
                    "{label}: state {s}: chosen Q {chosen} < best {best}"
                );
            }
        }
    }
}
