//! The command line as a user meets it: exit codes, summaries, output files, and one-line
//! errors naming file and line for bad models.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

/// Runs `decide ARGS` and checks the exit code.
fn check(args: &[&str], expect_code: i32) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_decide"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("decide runs");
    assert_eq!(
        out.status.code(),
        Some(expect_code),
        "decide {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn solve_writes_solution_and_policy() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("solution.json");
    let policy = dir.path().join("policy.csv");
    let model = testdata("mdp/frozenlake8x8_slippery.transitions.csv");
    let out = check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--policy-csv",
            policy.to_str().unwrap(),
        ],
        0,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("converged"), "{stdout}");
    assert!(stdout.contains("65 states"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "no progress bar in pipes: {}",
        stderr(&out)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    for key in ["values", "policy", "lower", "upper"] {
        assert_eq!(json[key].as_array().unwrap().len(), 65, "{key}");
    }
    for key in [
        "algorithm",
        "status",
        "iterations",
        "seconds",
        "residual",
        "policy_gap",
    ] {
        assert!(!json["report"][key].is_null(), "report.{key}");
    }
    assert_eq!(json["report"]["status"], "converged");
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("mdp/frozenlake8x8_slippery.reference.json")).unwrap(),
    )
    .unwrap();
    for (mine, theirs) in json["values"]
        .as_array()
        .unwrap()
        .iter()
        .zip(reference["V"].as_array().unwrap())
    {
        assert!((mine.as_f64().unwrap() - theirs.as_f64().unwrap()).abs() < 1e-6);
    }
    let csv = std::fs::read_to_string(&policy).unwrap();
    assert!(csv.starts_with("state,action\n"), "{csv}");
    assert_eq!(csv.lines().count(), 66);
}

#[test]
fn flags_override_the_model() {
    let model = testdata("mdp/forest_S3.transitions.csv");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("s.json");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--discount",
            "0.96",
            "--algorithm",
            "vi",
            "--output",
            output.to_str().unwrap(),
        ],
        0,
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    // pymdptoolbox's forest(S=3) at 0.96: V = (74.6496, 78.1056, 82.1056) (its documented values,
    // which come from a value-iteration run; the exact values agree to 1e-4).
    let expected = [74.6496, 78.1056, 82.1056];
    for (v, e) in json["values"].as_array().unwrap().iter().zip(expected) {
        assert!((v.as_f64().unwrap() - e).abs() < 1e-3, "{v} vs {e}");
    }
    assert_eq!(json["model"]["discount"], 0.96);
    assert_eq!(json["report"]["algorithm"], "value_iteration");
}

#[test]
fn iteration_limit_exits_3_with_the_best_result_written() {
    let model = testdata("mdp/forest_S1000.transitions.csv");
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("s.json");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--algorithm",
            "vi",
            "--max-iterations",
            "5",
            "--output",
            output.to_str().unwrap(),
        ],
        3,
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(json["report"]["status"], "iteration_limit");
    assert_eq!(json["report"]["iterations"], 5);
}

#[test]
fn usage_errors_exit_2() {
    check(&["solve"], 2);
    check(&["solve", "x.csv", "--algorithm", "magic"], 2);
    check(&["frobnicate"], 2);
    let out = check(&["solve", "/nonexistent/model.csv"], 2);
    assert!(stderr(&out).contains("/nonexistent/model.csv"));
    let model = testdata("mdp/forest_S3.transitions.csv");
    check(&["solve", model.to_str().unwrap(), "--tolerance", "-1"], 2);
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--output",
            "/nonexistent/dir/out.json",
        ],
        2,
    );
}

#[test]
fn info_reports_merged_duplicates() {
    let model = testdata("mdp/frozenlake8x8_slippery.transitions.csv");
    let out = check(&["info", model.to_str().unwrap()], 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("merged duplicates     24 rows"), "{stdout}");
    assert!(stdout.contains("4 with different rewards"), "{stdout}");
}

#[test]
fn convert_to_json_round_trips_through_solve() {
    let dir = tempfile::tempdir().unwrap();
    let json_model = dir.path().join("fl.json");
    let model = testdata("mdp/frozenlake4x4_slippery.transitions.csv");
    check(
        &[
            "convert",
            model.to_str().unwrap(),
            json_model.to_str().unwrap(),
        ],
        0,
    );
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--output",
            a.to_str().unwrap(),
        ],
        0,
    );
    check(
        &[
            "solve",
            json_model.to_str().unwrap(),
            "--output",
            b.to_str().unwrap(),
        ],
        0,
    );
    let va: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    let vb: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    assert_eq!(va["values"], vb["values"]);
    assert_eq!(va["policy"], vb["policy"]);
}

/// Writes `name` with `text` (and optionally a sidecar meta) into `dir`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A bad model: exit 1, one line on stderr containing every fragment, no output file.
fn check_bad(model: &Path, fragments: &[&str]) {
    let output = model.with_extension("solution.json");
    let out = check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ],
        1,
    );
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for f in fragments {
        assert!(err.contains(f), "missing {f:?} in: {err}");
    }
    assert!(!output.exists(), "no output for a bad model");
    assert!(!err.contains("panicked"), "{err}");
}

const HEADER: &str = "state,action,next_state,probability,reward\n";

#[test]
fn bad_models_exit_1_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let meta = r#"{"states": 2, "actions": 1, "discount": 0.9}"#;
    let case = |name: &str, rows: &str, with_meta: bool| {
        if with_meta {
            write(d, &format!("{name}.meta.json"), meta);
        }
        write(
            d,
            &format!("{name}.transitions.csv"),
            &format!("{HEADER}{rows}"),
        )
    };
    check_bad(
        &case("sum", "0,0,0,0.49,1\n0,0,1,0.49,1\n1,0,1,1,0\n", true),
        &["sum.transitions.csv:2:", "s0", "a0", "0.98"],
    );
    check_bad(
        &case("negative", "0,0,0,-0.5,1\n0,0,1,1.5,1\n1,0,1,1,0\n", true),
        &["negative.transitions.csv:2:", "-0.5"],
    );
    check_bad(
        &case("nan", "0,0,0,1,nan\n1,0,1,1,0\n", true),
        &["nan.transitions.csv:2:", "reward", "NaN"],
    );
    check_bad(
        &case("inf", "0,0,0,1,0\n1,0,1,1,inf\n", true),
        &["inf.transitions.csv:3:", "reward", "inf"],
    );
    check_bad(
        &case("range", "0,0,0,1,0\n1,0,2,1,0\n", true),
        &["range.transitions.csv:3:", "next state 2"],
    );
    check_bad(
        &case("noactions", "0,0,1,1,0\n", true),
        &["noactions.transitions.csv", "s1", "no actions"],
    );
    check_bad(
        &case("malformed", "0,0,0,1,0\n1,0,1,abc,0\n", true),
        &["malformed.transitions.csv:3:", "abc"],
    );
    check_bad(
        &write(
            d,
            "missing.transitions.csv",
            "state,action,next_state,probability\n0,0,0,1\n",
        ),
        &["missing.transitions.csv:1:", "reward"],
    );
    check_bad(
        &write(d, "empty.transitions.csv", ""),
        &["empty.transitions.csv"],
    );
    write(d, "discount.meta.json", r#"{"discount": 1.5}"#);
    check_bad(
        &write(
            d,
            "discount.transitions.csv",
            &format!("{HEADER}0,0,0,1,1\n"),
        ),
        &["discount.meta.json:1:", "1.5"],
    );
    write(d, "undiscounted.meta.json", r#"{"discount": 1.0}"#);
    check_bad(
        &write(
            d,
            "undiscounted.transitions.csv",
            &format!("{HEADER}0,0,0,1,1\n"),
        ),
        &["undiscounted.transitions.csv", "discount 1", "[0, 1)"],
    );
    check_bad(
        &write(
            d,
            "undeclared.mdp",
            "discount: 0.9\nvalues: reward\nstates: 2\nactions: go stay\nT: go identity\nT: stay identity\nT: jump : 0 : 1 1.0\n",
        ),
        &["undeclared.mdp:7:", "jump"],
    );
}

#[test]
fn discount_flag_outside_range_is_invalid() {
    let model = testdata("mdp/forest_S3.transitions.csv");
    let out = check(&["solve", model.to_str().unwrap(), "--discount", "1"], 1);
    assert!(stderr(&out).contains("--discount"), "{}", stderr(&out));
}

fn solution_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn eval_of_the_optimal_policy_reproduces_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("mdp/frozenlake8x8_slippery.transitions.csv");
    let solved = dir.path().join("solved.json");
    let policy = dir.path().join("policy.csv");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--output",
            solved.to_str().unwrap(),
            "--policy-csv",
            policy.to_str().unwrap(),
        ],
        0,
    );
    for given in [&policy, &solved] {
        let evaluated = dir.path().join("evaluated.json");
        check(
            &[
                "eval",
                model.to_str().unwrap(),
                "--policy",
                given.to_str().unwrap(),
                "--output",
                evaluated.to_str().unwrap(),
            ],
            0,
        );
        let a = solution_json(&solved);
        let b = solution_json(&evaluated);
        for (x, y) in a["values"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["values"].as_array().unwrap())
        {
            assert!(
                (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9,
                "{x} vs {y}"
            );
        }
        assert_eq!(a["policy"], b["policy"]);
    }
}

#[test]
fn eval_of_a_randomised_policy_is_the_mixture() {
    // forest_S3 at 0.96 with "wait" and "cut" each half the time in every state, checked against
    // the same policy evaluated by hand: V = r_π + γ P_π V solved by the test's own 3×3 solve.
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("mdp/forest_S3.transitions.csv");
    let policy = write(
        dir.path(),
        "half.csv",
        "state,action,probability\n0,0,0.5\n0,1,0.5\n1,0,0.5\n1,1,0.5\n2,0,0.5\n2,1,0.5\n",
    );
    let out = dir.path().join("v.json");
    check(
        &[
            "eval",
            model.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--discount",
            "0.96",
            "--output",
            out.to_str().unwrap(),
        ],
        0,
    );
    let p_wait = [[0.1, 0.9, 0.0], [0.1, 0.0, 0.9], [0.1, 0.0, 0.9]];
    let r = [[0.0, 0.0], [0.0, 1.0], [4.0, 2.0]];
    let mut a = [[0.0f64; 4]; 3];
    for s in 0..3 {
        for n in 0..3 {
            let p = 0.5 * p_wait[s][n] + 0.5 * if n == 0 { 1.0 } else { 0.0 };
            a[s][n] = if s == n { 1.0 } else { 0.0 } - 0.96 * p;
        }
        a[s][3] = 0.5 * r[s][0] + 0.5 * r[s][1];
    }
    // Gaussian elimination on the 3×4 augmented matrix.
    for c in 0..3 {
        let pivot = a[c][c];
        for k in c..4 {
            a[c][k] /= pivot;
        }
        for row in 0..3 {
            if row != c {
                let f = a[row][c];
                for k in c..4 {
                    a[row][k] -= f * a[c][k];
                }
            }
        }
    }
    let values = solution_json(&out)["values"].clone();
    for s in 0..3 {
        assert!(
            (values[s].as_f64().unwrap() - a[s][3]).abs() < 1e-9,
            "{values} vs {a:?}"
        );
    }
}

#[test]
fn simulated_returns_bracket_the_optimal_value() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("mdp/frozenlake8x8_slippery.transitions.csv");
    let policy = dir.path().join("policy.csv");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--policy-csv",
            policy.to_str().unwrap(),
            "-q",
        ],
        0,
    );
    let out = check(
        &[
            "simulate",
            model.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--episodes",
            "20000",
            "--seed",
            "7",
        ],
        0,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ci = stdout.lines().find(|l| l.starts_with("95% CI")).unwrap();
    let numbers: Vec<f64> = ci
        .trim_start_matches("95% CI")
        .trim()
        .trim_matches(|c| c == '[' || c == ']')
        .split(", ")
        .map(|x| x.parse().unwrap())
        .collect();
    let v_star = 0.41464036219; // testdata/mdp/frozenlake8x8_slippery.reference.json, V[0]
    assert!(numbers[0] <= v_star && v_star <= numbers[1], "{ci}");
    // Reproducible from the seed.
    let again = check(
        &[
            "simulate",
            model.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--episodes",
            "20000",
            "--seed",
            "7",
        ],
        0,
    );
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn other_criteria_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let model = testdata("mdp/frozenlake4x4_slippery.transitions.csv");
    let out = dir.path().join("t.json");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--criterion",
            "total",
            "--output",
            out.to_str().unwrap(),
        ],
        0,
    );
    // Undiscounted FrozenLake 4x4: the best success probability from the start is 14/17.
    assert!((solution_json(&out)["values"][0].as_f64().unwrap() - 14.0 / 17.0).abs() < 1e-9);
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--horizon",
            "5",
            "--output",
            out.to_str().unwrap(),
        ],
        0,
    );
    let json = solution_json(&out);
    assert_eq!(json["values_by_stage"].as_array().unwrap().len(), 5);
    assert_eq!(json["policy_by_stage"].as_array().unwrap().len(), 5);
    assert_eq!(json["report"]["criterion"], "finite");
    check(
        &[
            "solve",
            model.to_str().unwrap(),
            "--criterion",
            "average",
            "--output",
            out.to_str().unwrap(),
        ],
        0,
    );
    assert!(solution_json(&out)["gain"]["value"].as_f64().unwrap().abs() < 1e-6);
    let refused = check(&["solve", model.to_str().unwrap(), "--discount", "1"], 1);
    assert!(
        stderr(&refused).contains("--criterion total"),
        "{}",
        stderr(&refused)
    );
    check(
        &["solve", model.to_str().unwrap(), "--criterion", "finite"],
        2,
    );
}
