//! `decide schedule` as a user meets it: methods, exit codes (0 done, 1 invalid input naming
//! file and line, 2 usage or unreadable files, 3 an exact run stopped by its time limit),
//! and the JSON output file.

mod common;

use common::{path_str, read_json, stderr, stdout};
use std::path::PathBuf;
use std::process::Output;

/// A file of `testdata/sched`.
fn testdata(rel: &str) -> PathBuf {
    common::testdata("sched").join(rel)
}

/// Runs `decide schedule ARGS` and checks the exit code.
fn schedule(args: &[&str], expect_code: i32) -> Output {
    let mut all = vec!["schedule"];
    all.extend_from_slice(args);
    common::decide(&all, expect_code)
}

#[test]
fn exact_proves_the_worked_examples_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("schedules.json");
    let file = testdata("examples.json");
    let out = schedule(
        &[
            path_str(&file),
            "--method",
            "exact",
            "--output",
            path_str(&output),
        ],
        0,
    );
    let text = stdout(&out);
    assert!(text.contains("objective 141 (optimal)"), "{text}");
    assert!(text.contains("objective 34 (optimal)"), "{text}");
    assert!(text.contains("2 proven optimal"), "{text}");
    let json = read_json(&output);
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 2);
    for (record, optimum, n) in [(&records[0], 141, 6), (&records[1], 34, 8)] {
        assert_eq!(record["objective"], optimum);
        assert_eq!(record["lower_bound"], optimum);
        assert_eq!(record["proven_optimal"], true);
        assert_eq!(record["method"], "exact");
        assert_eq!(record["status"], "optimal");
        assert!(record["seconds"].as_f64().unwrap() >= 0.0);
        let mut sequence: Vec<u64> = record["sequence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        sequence.sort_unstable();
        assert_eq!(sequence, (0..n).collect::<Vec<u64>>());
    }
    assert_eq!(records[0]["name"], "cetinkaya-six-jobs");
    // Only the output file is left in the folder: the write went through a renamed
    // temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn rules_give_the_papers_values() {
    let file = testdata("examples.json");
    let dir = tempfile::tempdir().unwrap();
    for (method, six, eight) in [("mdd", 144, 34), ("mddc", 141, 34), ("edd", 145, 35)] {
        let output = dir.path().join(format!("{method}.json"));
        schedule(
            &[
                path_str(&file),
                "--method",
                method,
                "--output",
                path_str(&output),
            ],
            0,
        );
        let json = read_json(&output);
        assert_eq!(json[0]["objective"], six, "{method}");
        assert_eq!(json[1]["objective"], eight, "{method}");
        assert_eq!(json[0]["status"], "heuristic", "{method}");
        assert_eq!(json[0]["method"], method);
    }
    let output = dir.path().join("mddc.json");
    schedule(
        &[
            path_str(&file),
            "--method",
            "mddc",
            "--output",
            path_str(&output),
        ],
        0,
    );
    assert_eq!(
        read_json(&output)[0]["sequence"],
        serde_json::json!([3, 5, 2, 0, 1, 4])
    );
}

#[test]
fn orlibrary_files_with_and_without_jobs() {
    let file = testdata("wt40.txt");
    let out = schedule(&[path_str(&file), "--jobs", "40", "--method", "atc"], 0);
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("instance ")).count(),
        125
    );
    assert!(
        text.contains("125 instances, atc (weighted-tardiness)"),
        "{text}"
    );
    // The wtN name says N.
    let out = schedule(&[path_str(&file), "--method", "edd", "--quiet"], 0);
    assert!(stdout(&out).is_empty());
    // The wrong N: the numbers do not divide into instances.
    let out = schedule(&[path_str(&file), "--jobs", "41", "--method", "edd"], 1);
    let message = stderr(&out);
    assert!(message.contains("wt40.txt:"), "{message}");
    assert!(message.contains("multiple of 3 × 41"), "{message}");
}

#[test]
fn time_limit_stops_exact_with_exit_3_and_honest_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("wt40.json");
    let file = testdata("wt40.txt");
    schedule(
        &[
            path_str(&file),
            "--method",
            "exact",
            "--time-limit",
            "0",
            "--quiet",
            "--output",
            path_str(&output),
        ],
        3,
    );
    let json = read_json(&output);
    let records = json.as_array().unwrap();
    assert_eq!(records.len(), 125);
    let reference: Vec<i64> = std::fs::read_to_string(testdata("wtopt40.txt"))
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let mut stopped = 0;
    for (record, &optimum) in records.iter().zip(&reference) {
        let objective = record["objective"].as_i64().unwrap();
        let bound = record["lower_bound"].as_i64().unwrap();
        assert!(bound <= optimum && optimum <= objective, "{record}");
        match record["status"].as_str().unwrap() {
            "optimal" => assert_eq!(objective, optimum),
            "time_limit" => {
                stopped += 1;
                assert_eq!(record["proven_optimal"], false);
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(stopped > 50, "{stopped}");
}

#[test]
fn tardiness_objective_ignores_weights() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("weighted.json");
    // Weighted, job 1 first is best (10·1 avoided); unweighted, job 0 first (cost 1 vs 2).
    std::fs::write(
        &file,
        r#"{"jobs": [{"p": 1, "d": 1, "w": 1}, {"p": 2, "d": 2, "w": 10}]}"#,
    )
    .unwrap();
    let output = dir.path().join("out.json");
    schedule(&[path_str(&file), "--output", path_str(&output)], 0);
    let weighted = read_json(&output);
    assert_eq!(weighted[0]["objective"], 2);
    assert_eq!(weighted[0]["sequence"], serde_json::json!([1, 0]));
    schedule(
        &[
            path_str(&file),
            "--objective",
            "tardiness",
            "--output",
            path_str(&output),
        ],
        0,
    );
    let unweighted = read_json(&output);
    assert_eq!(unweighted[0]["objective"], 1);
    assert_eq!(unweighted[0]["sequence"], serde_json::json!([0, 1]));
}

#[test]
fn invalid_input_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bad.json");
    std::fs::write(
        &json,
        "{\"jobs\": [\n  {\"p\": 3, \"d\": 5},\n  {\"p\": 0, \"d\": 1}\n]}\n",
    )
    .unwrap();
    let out = schedule(&[path_str(&json)], 1);
    let message = stderr(&out);
    assert!(
        message.contains(&format!("{}:3:", json.display())),
        "{message}"
    );
    assert!(
        message.contains("processing time 0 is not positive"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");

    std::fs::write(&json, "{\"jobs\": [\n  {\"p\": 3, \"d\": 5},,\n]}").unwrap();
    let message = stderr(&schedule(&[path_str(&json)], 1));
    assert!(message.contains(":2: invalid JSON"), "{message}");

    let text = dir.path().join("wt2.txt");
    std::fs::write(&text, "1 2\n1 1\n5 x6\n").unwrap();
    let message = stderr(&schedule(&[path_str(&text)], 1));
    assert!(
        message.contains("wt2.txt:3: \"x6\" is not an integer"),
        "{message}"
    );

    std::fs::write(&text, "1 2\n1 -1\n5 6\n").unwrap();
    let message = stderr(&schedule(&[path_str(&text)], 1));
    assert!(
        message.contains("wt2.txt:2: instance 1: job 1: weight -1 is negative"),
        "{message}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let message = stderr(&schedule(&[path_str(&missing)], 2));
    assert!(message.contains("missing.json"), "{message}");

    let unnamed = dir.path().join("jobs.txt");
    std::fs::write(&unnamed, "1 1 5\n").unwrap();
    let message = stderr(&schedule(&[path_str(&unnamed)], 2));
    assert!(message.contains("--jobs N"), "{message}");

    let file = testdata("examples.json");
    for args in [
        vec![path_str(&file), "--time-limit", "-1"],
        vec![path_str(&file), "--method", "fastest"],
        vec![path_str(&file), "--objective", "makespan"],
        vec![path_str(&file), "--atc-lookahead", "0"],
        vec![path_str(&file), "--jobs", "0"],
    ] {
        schedule(&args, 2);
    }

    // An output folder that does not exist: nothing is written, exit 2.
    let output = dir.path().join("no/such/folder/out.json");
    schedule(&[path_str(&file), "--output", path_str(&output)], 2);
    assert!(!output.exists());
}

/// The generated 1||ΣT_j reference set at n = 20 (`testdata/sched/smtt_n20.json`, column
/// form `{"instances": [{"p": [...], "d": [...]}]}`): `--method exact --objective tardiness`
/// proves the file's subset-DP optimum on all 50 instances, and every record is consistent.
#[test]
fn exact_proves_the_smtt_n20_reference_optima() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("smtt.json");
    let file = testdata("smtt_n20.json");
    schedule(
        &[
            path_str(&file),
            "--objective",
            "tardiness",
            "--method",
            "exact",
            "--quiet",
            "--output",
            path_str(&output),
        ],
        0,
    );
    let records = read_json(&output);
    let reference = read_json(&file);
    let instances = reference["instances"].as_array().unwrap();
    assert_eq!(records.as_array().unwrap().len(), instances.len());
    for (record, instance) in records.as_array().unwrap().iter().zip(instances) {
        let optimum = instance["dp_optimum"].as_i64().unwrap();
        assert_eq!(record["objective"].as_i64(), Some(optimum), "{record}");
        assert_eq!(record["lower_bound"].as_i64(), Some(optimum), "{record}");
        assert_eq!(record["proven_optimal"], true, "{record}");
        assert_eq!(record["method"], "exact", "{record}");
        // The sequence is a permutation whose cost, recomputed here, is the optimum.
        let p: Vec<i64> = instance["p"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let d: Vec<i64> = instance["d"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        let sequence: Vec<usize> = record["sequence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let mut seen = sequence.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..p.len()).collect::<Vec<_>>());
        let (mut time, mut cost) = (0, 0);
        for j in sequence {
            time += p[j];
            cost += (time - d[j]).max(0);
        }
        assert_eq!(cost, optimum);
    }
}
