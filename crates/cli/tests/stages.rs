//! Stage-dependent models (a `stage` column in CSV, `stages` in JSON) under the finite
//! horizon: `decide solve` and `decide eval` against a backward induction written here from
//! the rows themselves, and the errors a user meets with such a model.

mod common;

use common::{decide, read_json as json};
use std::path::{Path, PathBuf};

const N_STATES: usize = 3;
const N_ACTIONS: usize = 2;
const HORIZON: usize = 4;

/// One row: stage, state, action, next state, probability, reward.
type Row = (usize, usize, usize, usize, f64, f64);

/// A model whose rewards and transitions change with the stage, so that the best action
/// does too: action 1 pays off early and action 0 late.
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for t in 0..HORIZON {
        for s in 0..N_STATES {
            for a in 0..N_ACTIONS {
                let stay = 0.2 + 0.15 * ((s + a + t) % 3) as f64;
                let next = (s + 1 + a) % N_STATES;
                let reward = if a == 1 {
                    5.0 - 1.5 * t as f64 + s as f64
                } else {
                    1.0 + t as f64 * (s as f64 + 0.5)
                };
                rows.push((t, s, a, s, stay, reward));
                rows.push((t, s, a, next, 1.0 - stay, reward - 0.25 * a as f64));
            }
        }
    }
    rows
}

/// Backward induction straight from the rows: values by stage and the best action.
fn backward_induction(rows: &[Row], discount: f64) -> (Vec<Vec<f64>>, Vec<Vec<usize>>) {
    let mut next_values = vec![0.0; N_STATES];
    let mut values = vec![Vec::new(); HORIZON];
    let mut policy = vec![Vec::new(); HORIZON];
    for t in (0..HORIZON).rev() {
        let mut q = vec![[0.0f64; N_ACTIONS]; N_STATES];
        for &(stage, s, a, s2, p, r) in rows {
            if stage == t {
                q[s][a] += p * (r + discount * next_values[s2]);
            }
        }
        values[t] = q.iter().map(|qs| qs[0].max(qs[1])).collect();
        policy[t] = q.iter().map(|qs| usize::from(qs[1] > qs[0])).collect();
        next_values = values[t].clone();
    }
    (values, policy)
}

/// The value at stage 0 of always taking `policy[s]`, straight from the rows.
fn evaluate(rows: &[Row], discount: f64, policy: &[usize]) -> Vec<f64> {
    let mut next_values = vec![0.0; N_STATES];
    for t in (0..HORIZON).rev() {
        let mut v = vec![0.0; N_STATES];
        for &(stage, s, a, s2, p, r) in rows {
            if stage == t && a == policy[s] {
                v[s] += p * (r + discount * next_values[s2]);
            }
        }
        next_values = v;
    }
    next_values
}

fn write_csv(dir: &Path, rows: &[Row]) -> PathBuf {
    // Columns reordered and rows shuffled by stage: neither matters.
    let mut text = String::from("stage,state,action,next_state,probability,reward\n");
    for &(t, s, a, s2, p, r) in rows.iter().rev() {
        text.push_str(&format!("{t},{s},{a},{s2},{p},{r}\n"));
    }
    let path = dir.join("staged.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn numbers(value: &serde_json::Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// The solution file against the backward induction above, stage by stage.
fn check_solution(solution: &serde_json::Value, discount: f64) {
    let (values, policy) = backward_induction(&rows(), discount);
    let by_stage = solution["values_by_stage"].as_array().unwrap();
    assert_eq!(by_stage.len(), HORIZON);
    for t in 0..HORIZON {
        let got = numbers(&by_stage[t]);
        for s in 0..N_STATES {
            assert!(
                (got[s] - values[t][s]).abs() < 1e-9,
                "stage {t} state {s}: {} vs {}",
                got[s],
                values[t][s]
            );
        }
        let actions: Vec<u64> = solution["policy_by_stage"][t]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = policy[t].iter().map(|&a| a as u64).collect();
        assert_eq!(actions, expected, "stage {t}");
    }
    let stage0 = numbers(&solution["values"]);
    for s in 0..N_STATES {
        assert!((stage0[s] - values[0][s]).abs() < 1e-9);
    }
}

#[test]
fn the_policy_changes_with_the_stage() {
    // Otherwise the test would not tell a stage-dependent solve from a stationary one.
    let (_, policy) = backward_induction(&rows(), 0.95);
    assert_ne!(policy[0], policy[HORIZON - 1], "{policy:?}");
}

#[test]
fn csv_with_a_stage_column_is_solved_stage_by_stage() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_csv(dir.path(), &rows());
    let model = model.to_str().unwrap();
    let output = dir.path().join("solution.json");
    let out = decide(
        &[
            "solve",
            model,
            "--discount",
            "0.95",
            "--output",
            output.to_str().unwrap(),
        ],
        0,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4 stages"), "{stdout}");
    assert!(stdout.contains("finite horizon of 4 decisions"), "{stdout}");
    check_solution(&json(&output), 0.95);

    // The horizon may be said, if it is the number of stages; discount 1 is allowed.
    decide(
        &[
            "solve",
            model,
            "--criterion",
            "finite",
            "--horizon",
            "4",
            "--output",
            output.to_str().unwrap(),
        ],
        0,
    );
    check_solution(&json(&output), 1.0);
}

#[test]
fn json_stages_round_trip_through_convert() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_csv(dir.path(), &rows());
    let converted = dir.path().join("staged.json");
    decide(
        &[
            "convert",
            csv.to_str().unwrap(),
            converted.to_str().unwrap(),
        ],
        0,
    );
    let document = json(&converted);
    assert_eq!(document["stages"].as_array().unwrap().len(), HORIZON);
    assert!(document.get("transitions").is_none());
    let output = dir.path().join("solution.json");
    decide(
        &[
            "solve",
            converted.to_str().unwrap(),
            "--discount",
            "0.9",
            "--output",
            output.to_str().unwrap(),
        ],
        0,
    );
    check_solution(&json(&output), 0.9);

    // The binary format holds one stage: refused rather than silently cut to stage 0.
    let binary = dir.path().join("staged.decide");
    let out = decide(
        &["convert", csv.to_str().unwrap(), binary.to_str().unwrap()],
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("one stage"));
    assert!(!binary.exists());
}

#[test]
fn eval_of_a_stationary_policy_on_a_staged_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_csv(dir.path(), &rows());
    let policy_file = dir.path().join("policy.csv");
    let policy = [1usize, 0, 1];
    std::fs::write(&policy_file, "state,action\n0,1\n1,0\n2,1\n").unwrap();
    let output = dir.path().join("eval.json");
    decide(
        &[
            "eval",
            model.to_str().unwrap(),
            "--policy",
            policy_file.to_str().unwrap(),
            "--discount",
            "0.95",
            "--output",
            output.to_str().unwrap(),
        ],
        0,
    );
    let got = numbers(&json(&output)["values"]);
    let expected = evaluate(&rows(), 0.95, &policy);
    for s in 0..N_STATES {
        assert!(
            (got[s] - expected[s]).abs() < 1e-9,
            "{got:?} vs {expected:?}"
        );
    }
}

#[test]
fn staged_models_refuse_what_does_not_apply() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_csv(dir.path(), &rows());
    let model = model.to_str().unwrap();
    let out = decide(
        &[
            "solve",
            model,
            "--criterion",
            "discounted",
            "--discount",
            "0.9",
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stage-dependent (4 stages)"));
    let out = decide(&["solve", model, "--horizon", "6"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not --horizon 6"));
    let out = decide(&["solve", model, "--algorithm", "vi"], 2);
    assert!(String::from_utf8_lossy(&out.stderr).contains("backward induction"));
    let policy_file = dir.path().join("policy.csv");
    std::fs::write(&policy_file, "state,action\n0,1\n1,0\n2,1\n").unwrap();
    let out = decide(
        &[
            "simulate",
            model,
            "--policy",
            policy_file.to_str().unwrap(),
            "--episodes",
            "10",
        ],
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("stationary models only"));
}

#[test]
fn bad_stage_columns_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        // A gap: stage 1 is missing.
        (
            "stage,state,action,next_state,probability,reward\n0,0,0,0,1,1\n2,0,0,0,1,1\n",
            "stage 1 has no rows",
        ),
        (
            "stage,state,action,next_state,probability,reward\n0,0,0,0,1,1\n-1,0,0,0,1,1\n",
            ":3: stage",
        ),
        (
            "stage,state,action,next_state,probability,reward\n0,0,0,0,1,1\n4000000000,0,0,0,1,1\n",
            ":3: stage 4000000000 is beyond",
        ),
        (
            "stage,state,action,next_state,stage,probability,reward\n0,0,0,0,0,1,1\n",
            "\"stage\" appears more than once",
        ),
        // Stage 1 lacks state 1's actions.
        (
            "stage,state,action,next_state,probability,reward\n0,0,0,1,1,1\n0,1,0,0,1,1\n1,0,0,1,1,1\n",
            "stage 1: state s1",
        ),
    ];
    for (k, (text, fragment)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{k}.csv"));
        std::fs::write(&path, text).unwrap();
        let out = decide(&["info", path.to_str().unwrap()], 1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(fragment), "case {k}: {stderr}");
        assert!(
            stderr.contains(&format!("bad{k}.csv")),
            "case {k}: {stderr}"
        );
    }
}
