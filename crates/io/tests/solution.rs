//! The solution JSON and policy CSV writers: written, then read back and checked field by
//! field.

use decide_core::{ActionId, Certificate, Report, Sense, Solution, Status};
use decide_io::solution::{SolutionContext, write_policy_csv, write_solution_json};
use serde_json::{Value, json};
use std::time::Duration;

/// Three states; the last is terminal.
fn solution() -> Solution {
    Solution {
        values: vec![10.5, -2.25, 0.0],
        policy: vec![Some(ActionId(1)), Some(ActionId(0)), None],
        lower: vec![10.4, -2.3, 0.0],
        upper: vec![10.6, -2.2, 0.0],
        report: Report {
            algorithm: "value_iteration",
            status: Status::Converged,
            iterations: 42,
            sweeps: 43,
            elapsed: Duration::from_millis(1500),
            certificate: Certificate {
                residual: 1e-9,
                policy_gap: 2e-8,
                value_error: 1e-8,
                rounding: 1e-14,
            },
            tolerance: 1e-6,
            criterion: "discounted",
            notes: vec!["a note".into()],
        },
        gain: None,
        stages: None,
    }
}

fn context<'a>(
    state_names: Option<&'a [String]>,
    action_names: Option<&'a [String]>,
) -> SolutionContext<'a> {
    SolutionContext {
        model_path: "models/forest.csv",
        discount: 0.95,
        sense: Sense::Minimize,
        n_states: 3,
        state_names,
        action_names,
    }
}

fn written_json(solution: &Solution, context: &SolutionContext<'_>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("solution.json");
    write_solution_json(&path, solution, context).unwrap();
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn the_solution_json_has_every_field() {
    let document = written_json(&solution(), &context(None, None));
    assert_eq!(document["values"], json!([10.5, -2.25, 0.0]));
    assert_eq!(document["policy"], json!([1, 0, null]));
    assert_eq!(document["lower"], json!([10.4, -2.3, 0.0]));
    assert_eq!(document["upper"], json!([10.6, -2.2, 0.0]));
    assert_eq!(
        document["report"],
        json!({
            "algorithm": "value_iteration",
            "status": "converged",
            "converged": true,
            "iterations": 42,
            "sweeps": 43,
            "seconds": 1.5,
            "residual": 1e-9,
            "policy_gap": 2e-8,
            "value_error": 1e-8,
            "rounding": 1e-14,
            "tolerance": 1e-6,
            "criterion": "discounted",
            "notes": ["a note"],
        })
    );
    assert_eq!(
        document["model"],
        json!({"path": "models/forest.csv", "states": 3, "discount": 0.95, "sense": "minimize"})
    );
    assert!(document.get("policy_names").is_none());
    assert!(document.get("state_names").is_none());
}

#[test]
fn names_are_written_when_the_model_has_them() {
    let states = ["young".to_string(), "old".to_string(), "gone".to_string()];
    let actions = ["wait".to_string(), "cut".to_string()];
    let document = written_json(&solution(), &context(Some(&states), Some(&actions)));
    assert_eq!(document["policy_names"], json!(["cut", "wait", null]));
    assert_eq!(document["state_names"], json!(["young", "old", "gone"]));
}

#[test]
fn an_unconverged_run_says_so() {
    let mut stopped = solution();
    stopped.report.status = Status::IterationLimit;
    let document = written_json(&stopped, &context(None, None));
    assert_eq!(document["report"]["status"], "iteration_limit");
    assert_eq!(document["report"]["converged"], false);
}

#[test]
fn values_round_trip_exactly_and_infinities_become_null() {
    let mut precise = solution();
    precise.values[0] = 0.1 + 0.2;
    precise.upper[0] = f64::INFINITY;
    let document = written_json(&precise, &context(None, None));
    assert_eq!(document["values"][0].as_f64(), Some(0.1 + 0.2));
    assert_eq!(document["upper"][0], Value::Null);
}

#[test]
fn a_solution_that_disagrees_with_its_model_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("solution.json");
    let mut short = solution();
    short.lower.pop();
    let error = write_solution_json(&path, &short, &context(None, None)).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the solution's lower has 2 entries but the model has 3 states"),
        "{error}"
    );
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn the_policy_csv_has_one_row_per_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.csv");
    write_policy_csv(&path, &solution(), None).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "state,action\n0,1\n1,0\n2,\n"
    );
}

#[test]
fn the_policy_csv_names_actions_and_quotes_them_when_needed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.csv");
    let actions = ["wait".to_string(), "cut, then \"replant\"".to_string()];
    write_policy_csv(&path, &solution(), Some(&actions)).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "state,action,action_name\n0,1,\"cut, then \"\"replant\"\"\"\n1,0,wait\n2,,\n"
    );
}

#[test]
fn writing_into_a_missing_folder_fails_cleanly() {
    let error = write_policy_csv(
        std::path::Path::new("/nonexistent-folder/policy.csv"),
        &solution(),
        None,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent-folder/policy.csv: ")
    );
}
