//! Robust solving from the command line (issue 7): `--ambiguity`, `--rectangularity`,
//! `--family`, `--worst-case`, interval bounds in CSV and JSON, and the errors. Every number
//! is checked against a closed form worked out here.

mod common;

use common::{decide, path_str as s, read_json as json, stderr};

/// A file of `testdata/robust`, as a command-line argument.
fn testdata(name: &str) -> String {
    common::testdata("robust").join(name).display().to_string()
}

fn values(solution: &serde_json::Value, field: &str) -> Vec<f64> {
    solution[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// The worked example of docs/robust.md (testdata/robust/bridge): from `start`, the road
/// reaches `town` (terminal value 10) surely; the shortcut reaches `treasure` (15) with
/// estimated probability 0.9, else the `ditch` (0), the true probability only known to lie in
/// [0.5, 1]. Discount 0.9. Closed forms:
///
/// | policy | nominal value | worst-case value |
/// |---|---|---|
/// | shortcut (nominal optimum) | 0.9·0.9·15 = 12.15 | 0.9·0.5·15 = 6.75 |
/// | road (robust optimum) | 0.9·10 = 9 | 9 |
#[test]
fn worked_example_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("bridge.transitions.csv");
    let nominal_json = dir.path().join("nominal.json");
    let nominal_csv = dir.path().join("nominal.csv");
    let robust_json = dir.path().join("robust.json");
    let robust_csv = dir.path().join("robust.csv");
    let worst = dir.path().join("worst.json");

    decide(
        &[
            "solve",
            &model,
            "--output",
            s(&nominal_json),
            "--policy-csv",
            s(&nominal_csv),
            "-q",
        ],
        0,
    );
    let nominal = json(&nominal_json);
    println!(
        "nominal: V(start) = {}, action {}",
        nominal["values"][0], nominal["policy"][0]
    );
    assert!((values(&nominal, "values")[0] - 12.15).abs() < 1e-9);
    assert_eq!(nominal["policy"][0], 1, "the shortcut");

    for set in ["interval", "l1:0.8"] {
        decide(
            &[
                "solve",
                &model,
                "--ambiguity",
                set,
                "--output",
                s(&robust_json),
                "--policy-csv",
                s(&robust_csv),
                "--worst-case",
                s(&worst),
                "-q",
            ],
            0,
        );
        let robust = json(&robust_json);
        println!(
            "robust ({set}): V(start) = {}, action {}",
            robust["values"][0], robust["policy"][0]
        );
        assert!((values(&robust, "values")[0] - 9.0).abs() < 1e-9);
        assert!(values(&robust, "lower")[0] <= 9.0 && 9.0 <= values(&robust, "upper")[0]);
        assert_eq!(robust["policy"][0], 0, "the road");
        // Terminal values are exact.
        assert_eq!(values(&robust, "values")[1..], [10.0, 15.0, 0.0]);
        // Nature's model is a model of the set: the shortcut at its worst, 0.5 / 0.5.
        let worst_model = json(&worst);
        let rows = worst_model["transitions"].as_array().unwrap();
        let p = |next: u64| {
            rows.iter()
                .filter(|r| r[0] == 0 && r[1] == 1 && r[2] == next)
                .map(|r| r[3].as_f64().unwrap())
                .sum::<f64>()
        };
        assert!((p(2) - 0.5).abs() < 1e-12 && (p(3) - 0.5).abs() < 1e-12);
    }

    // Each policy's nominal and worst-case values, by `decide eval`.
    let cases = [(&nominal_csv, 12.15, 6.75), (&robust_csv, 9.0, 9.0)];
    for (policy, nominal_value, worst_value) in cases {
        let out = dir.path().join("eval.json");
        decide(
            &["eval", &model, "--policy", s(policy), "--output", s(&out)],
            0,
        );
        let plain = values(&json(&out), "values")[0];
        decide(
            &[
                "eval",
                &model,
                "--policy",
                s(policy),
                "--ambiguity",
                "interval",
                "--output",
                s(&out),
                "--worst-case",
                s(&worst),
            ],
            0,
        );
        let robust = values(&json(&out), "values")[0];
        println!("{}: nominal {plain}, worst case {robust}", policy.display());
        assert!((plain - nominal_value).abs() < 1e-9);
        assert!((robust - worst_value).abs() < 1e-9);
        // The worst-case model written is one where the policy gets exactly that value.
        let again = dir.path().join("again.json");
        decide(
            &[
                "eval",
                s(&worst),
                "--policy",
                s(policy),
                "--output",
                s(&again),
            ],
            0,
        );
        assert!((values(&json(&again), "values")[0] - worst_value).abs() < 1e-9);
    }
}

/// The static family of the docs: the bridge as estimated and in wet weather (shortcut
/// success 0.5). IWOCS's bracket closes at 9 (road), the worst model for the shortcut is the
/// wet one (6.75), and the sa-rectangular value of the family is reported (9 too: one step).
#[test]
fn static_family_bridge() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("bridge.transitions.csv");
    let wet = testdata("bridge_wet.transitions.csv");
    let out = dir.path().join("static.json");
    let policy = dir.path().join("policy.csv");
    decide(
        &[
            "solve",
            &model,
            "--ambiguity",
            "static",
            "--family",
            &wet,
            "--output",
            s(&out),
            "--policy-csv",
            s(&policy),
            "-q",
        ],
        0,
    );
    let result = json(&out);
    println!("static: {result}");
    assert!((result["lower"].as_f64().unwrap() - 9.0).abs() < 1e-9);
    assert!((result["upper"].as_f64().unwrap() - 9.0).abs() < 1e-9);
    assert!((result["rectangular_value"].as_f64().unwrap() - 9.0).abs() < 1e-9);
    assert_eq!(result["policy"][0], 0);
    assert_eq!(result["converged"], true);
    // The shortcut against the family: worst is the wet model, 0.9·0.5·15.
    let shortcut = dir.path().join("shortcut.csv");
    std::fs::write(&shortcut, "state,action\n0,1\n").unwrap();
    let worst = dir.path().join("worst.json");
    let eval = dir.path().join("eval.json");
    decide(
        &[
            "eval",
            &model,
            "--policy",
            s(&shortcut),
            "--ambiguity",
            "static",
            "--family",
            &wet,
            "--worst-case",
            s(&worst),
            "--output",
            s(&eval),
        ],
        0,
    );
    let e = json(&eval);
    assert!((e["value"].as_f64().unwrap() - 6.75).abs() < 1e-9);
    assert!(
        e["worst_case"]
            .as_str()
            .unwrap()
            .ends_with("bridge_wet.transitions.csv")
    );
    let by_model: Vec<f64> = values(&e, "values_by_model");
    assert!((by_model[0] - 12.15).abs() < 1e-9 && (by_model[1] - 6.75).abs() < 1e-9);
    // A family member with other actions is refused, naming the file.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "state,action,next_state,probability,reward\n0,0,1,1.0,0\n1,0,1,1,0\n2,0,2,1,0\n3,0,3,1,0\n").unwrap();
    let bad = decide(
        &[
            "solve",
            &model,
            "--ambiguity",
            "static",
            "--family",
            s(&other),
        ],
        1,
    );
    assert!(stderr(&bad).contains("other.csv"), "{}", stderr(&bad));
}

const ISSUE_CASE_CSV: &str =
    "state,action,next_state,probability,reward,probability_low,probability_high
0,0,0,0.5,1,0.4,0.6
0,0,1,0.5,1,0.4,0.6
1,0,1,1.0,0,1.0,1.0
";

/// The issue's interval case, from CSV columns and from the JSON form: V(s0) =
/// 1/(1 − 0.9·0.4) = 1.5625, V(s1) = 0 exactly (absorbing, reward 0).
#[test]
fn interval_case_from_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("case.csv");
    std::fs::write(&csv, ISSUE_CASE_CSV).unwrap();
    let json_model = dir.path().join("case.json");
    std::fs::write(
        &json_model,
        r#"{"states": 2, "discount": 0.9, "transitions": [
            [0, 0, 0, 0.5, 1, 0.4, 0.6],
            [0, 0, 1, 0.5, 1, 0.4, 0.6],
            [1, 0, 1, 1.0, 0, 1.0, 1.0]]}"#,
    )
    .unwrap();
    let out = dir.path().join("out.json");
    for (model, extra) in [(&csv, vec!["--discount", "0.9"]), (&json_model, vec![])] {
        let mut args = vec![
            "solve",
            s(model),
            "--ambiguity",
            "interval",
            "--output",
            s(&out),
            "-q",
            "--tolerance",
            "1e-12",
        ];
        args.extend(extra);
        decide(&args, 0);
        let v = values(&json(&out), "values");
        println!("{}: V = {v:?}", model.display());
        assert!((v[0] - 1.5625).abs() < 1e-10);
        assert_eq!(v[1], 0.0);
    }
}

/// A zero-probability outcome with a positive upper bound is part of the interval set: from
/// s0 (reward 1 per step, stays surely in the estimate), nature may leak up to 0.2 to the
/// absorbing s1: V(s0) = 1/(1 − 0.9·0.8) = 3.5714…
#[test]
fn zero_probability_outcomes_with_bounds_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("leak.csv");
    std::fs::write(
        &csv,
        "state,action,next_state,probability,reward,probability_low,probability_high\n\
         0,0,0,1.0,1,0.8,1.0\n0,0,1,0.0,1,0.0,0.2\n1,0,1,1.0,0,1.0,1.0\n",
    )
    .unwrap();
    let out = dir.path().join("out.json");
    decide(
        &[
            "solve",
            s(&csv),
            "--discount",
            "0.9",
            "--ambiguity",
            "interval",
            "--output",
            s(&out),
            "-q",
            "--tolerance",
            "1e-12",
        ],
        0,
    );
    let v = values(&json(&out), "values");
    assert!((v[0] - 1.0 / (1.0 - 0.72)).abs() < 1e-10, "{v:?}");
    // Nominally nothing leaks: 1/(1 − 0.9) = 10.
    decide(
        &[
            "solve",
            s(&csv),
            "--discount",
            "0.9",
            "--output",
            s(&out),
            "-q",
        ],
        0,
    );
    assert!((values(&json(&out), "values")[0] - 10.0).abs() < 1e-9);
}

/// s-rectangular L1 from the CLI: two actions that nature would each hurt; the agent hedges
/// half and half: V(s0) = 0.5·(0.4·10) = 2 (against 1.5 for sa-rectangular sets), and the
/// policy CSV holds the randomised policy.
#[test]
fn s_rectangular_hedging() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("hedge.json");
    std::fs::write(
        &model,
        r#"{"states": 3, "discount": 0.5, "terminal_values": [[1, 10.0], [2, 0.0]],
            "transitions": [[0, 0, 1, 0.5, 0], [0, 0, 2, 0.5, 0], [0, 1, 1, 0.5, 0], [0, 1, 2, 0.5, 0]]}"#,
    )
    .unwrap();
    let out = dir.path().join("out.json");
    let policy = dir.path().join("policy.csv");
    decide(
        &[
            "solve",
            s(&model),
            "--ambiguity",
            "l1:0.4",
            "--rectangularity",
            "s",
            "--output",
            s(&out),
            "--policy-csv",
            s(&policy),
            "-q",
        ],
        0,
    );
    assert!((values(&json(&out), "values")[0] - 2.0).abs() < 1e-9);
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.starts_with("state,action,probability\n"), "{text}");
    assert_eq!(text.lines().count(), 3, "{text}");
    // The solution JSON carries the same randomised policy (not a deterministic stand-in):
    // evaluating it and the CSV on the nominal model gives the same value, and robust
    // evaluation refuses both.
    let randomised = json(&out)["policy"][0].clone();
    let choices = randomised.as_array().expect("s0 randomises");
    assert_eq!(choices.len(), 2, "{randomised}");
    let total: f64 = choices.iter().map(|c| c[1].as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-12, "{randomised}");
    let from_json = dir.path().join("from_json.json");
    let from_csv = dir.path().join("from_csv.json");
    for (policy_file, result) in [(&out, &from_json), (&policy, &from_csv)] {
        decide(
            &[
                "eval",
                s(&model),
                "--policy",
                s(policy_file),
                "--output",
                s(result),
            ],
            0,
        );
    }
    assert_eq!(
        values(&json(&from_json), "values"),
        values(&json(&from_csv), "values")
    );
    decide(
        &[
            "eval",
            s(&model),
            "--policy",
            s(&out),
            "--ambiguity",
            "l1:0.4",
        ],
        2,
    );
    decide(
        &[
            "solve",
            s(&model),
            "--ambiguity",
            "l1:0.4",
            "--output",
            s(&out),
            "-q",
        ],
        0,
    );
    assert!((values(&json(&out), "values")[0] - 1.5).abs() < 1e-9);
    // A randomised policy is refused by robust evaluation.
    let e = decide(
        &[
            "eval",
            s(&model),
            "--policy",
            s(&policy),
            "--ambiguity",
            "l1:0.4",
        ],
        2,
    );
    assert!(stderr(&e).contains("deterministic"), "{}", stderr(&e));
}

/// Usage errors exit 2 with a message saying what is expected.
#[test]
fn bad_flags_exit_2() {
    let model = testdata("bridge.transitions.csv");
    for (args, expected) in [
        (vec!["--ambiguity", "l2:0.1"], "unknown ambiguity set"),
        (vec!["--ambiguity", "l1:3"], "out of range"),
        (vec!["--ambiguity", "kl:-1"], "out of range"),
        (vec!["--ambiguity", "l1"], "needs a radius"),
        (vec!["--ambiguity", "l1:abc"], "out of range"),
        (vec!["--rectangularity", "s"], "add --ambiguity"),
        (
            vec!["--ambiguity", "interval", "--rectangularity", "s"],
            "l1",
        ),
        (
            vec!["--ambiguity", "l1:0.1", "--rectangularity", "x"],
            "rectangularity",
        ),
        (vec!["--ambiguity", "finite"], "--family"),
        (
            vec!["--ambiguity", "l1:0.1", "--criterion", "total"],
            "discounted",
        ),
        (
            vec!["--ambiguity", "l1:0.1", "--algorithm", "lp"],
            "robust solving uses",
        ),
    ] {
        let mut all = vec!["solve", model.as_str()];
        all.extend(args.iter().copied());
        let out = decide(&all, 2);
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Interval without bounds in the file.
    let plain = testdata("bridge_wet.transitions.csv");
    let out = decide(&["solve", &plain, "--ambiguity", "interval"], 2);
    assert!(stderr(&out).contains("probability_low"), "{}", stderr(&out));
}

/// Bounds that leave no distribution, or are not bounds, exit 1 naming file, line, state and
/// action.
#[test]
fn empty_interval_sets_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "state,action,next_state,probability,reward,probability_low,probability_high\n0,0,0,0.5,1,0.6,0.7\n0,0,1,0.5,1,0.6,0.7\n1,0,1,1,0,1,1\n",
            ":2:",
            "state 0, action 0: the interval bounds admit no distribution",
        ),
        (
            "state,action,next_state,probability,reward,probability_low,probability_high\n0,0,0,0.5,1,0.1,0.2\n0,0,1,0.5,1,0.1,0.2\n1,0,1,1,0,1,1\n",
            ":2:",
            "sum to 0.4 < 1",
        ),
        (
            "state,action,next_state,probability,reward,probability_low,probability_high\n0,0,0,0.5,1,0.4,0.6\n0,0,1,0.5,1,0.7,0.6\n1,0,1,1,0,1,1\n",
            ":3:",
            "state 0, action 0, next state 1",
        ),
        (
            "state,action,next_state,probability,reward,probability_low\n0,0,0,1,1,0.4\n",
            ":1:",
            "both columns",
        ),
        (
            "state,action,next_state,probability,reward,probability_low,probability_high\n0,0,0,1,1,x,1\n",
            ":2:",
            "probability_low",
        ),
    ];
    for (i, (text, line, message)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.csv"));
        std::fs::write(&path, text).unwrap();
        let out = decide(
            &[
                "solve",
                s(&path),
                "--discount",
                "0.9",
                "--ambiguity",
                "interval",
            ],
            1,
        );
        let err = stderr(&out);
        println!("{err}");
        assert!(err.contains(&format!("bad{i}.csv{line}")), "{err}");
        assert!(err.contains(message), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // The JSON form names the element.
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        "{\"discount\": 0.9, \"transitions\": [\n[0, 0, 0, 0.5, 1, 0.6, 0.7],\n[0, 0, 1, 0.5, 1, 0.6, 0.7],\n[1, 0, 1, 1, 0, 1, 1]]}",
    )
    .unwrap();
    let out = decide(&["solve", s(&path), "--ambiguity", "interval"], 1);
    let err = stderr(&out);
    assert!(
        err.contains("bad.json:2:") && err.contains("transitions[0]"),
        "{err}"
    );
    assert!(err.contains("state 0, action 0"), "{err}");
}

/// A family shares the first model's objective: a member with its own discount or sense is
/// refused (exit 1, naming it) instead of being solved under the first model's silently.
#[test]
fn family_members_with_another_discount_or_sense_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("bridge.transitions.csv");
    let rows = std::fs::read_to_string(testdata("bridge_wet.transitions.csv")).unwrap();
    let meta = std::fs::read_to_string(testdata("bridge_wet.meta.json")).unwrap();
    for (name, from, to, what) in [
        (
            "cheap",
            "\"discount\": 0.9",
            "\"discount\": 0.5",
            "its discount is 0.5",
        ),
        (
            "cost",
            "\"sense\": \"maximize\"",
            "\"sense\": \"minimize\"",
            "its sense is Minimize",
        ),
    ] {
        assert!(meta.contains(from));
        let csv = dir.path().join(format!("{name}.transitions.csv"));
        std::fs::write(&csv, &rows).unwrap();
        std::fs::write(
            dir.path().join(format!("{name}.meta.json")),
            meta.replace(from, to),
        )
        .unwrap();
        for ambiguity in ["static", "finite"] {
            let out = decide(
                &[
                    "solve",
                    &model,
                    "--ambiguity",
                    ambiguity,
                    "--family",
                    s(&csv),
                ],
                1,
            );
            assert!(stderr(&out).contains(what), "{}", stderr(&out));
        }
    }
}
