//! The hostile-input corpus, run through the real binary: every case of
//! `testdata/hostile/cases.json` must end within 2 s with its expected exit code and message,
//! never panic, and leave no output file when the model is refused (exit 1 or 2). A few
//! inputs too large to keep in the repository are generated here instead.
//!
//! A case is `{"name", "model", "exit", "message", "why"}` plus optional `args` (more
//! command-line arguments) and `stdin` (a file fed to standard input; `model` is then `-`).
//! Paths are relative to `testdata/hostile`, where the binary runs, so messages quote them
//! as written there.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Longest a case may take, start to exit.
const CASE_LIMIT: Duration = Duration::from_secs(2);

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/hostile")
}

/// One entry of the manifest.
struct Case {
    name: String,
    model: String,
    exit: i32,
    message: String,
    args: Vec<String>,
    stdin: Option<String>,
}

fn load_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus_dir().join("cases.json")).expect("cases.json");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("cases.json is a JSON array");
    cases
        .iter()
        .map(|case| {
            let text_field = |key: &str| {
                case[key]
                    .as_str()
                    .unwrap_or_else(|| panic!("case field {key:?} in {case}"))
                    .to_string()
            };
            assert!(!text_field("why").is_empty(), "every case says why: {case}");
            Case {
                name: text_field("name"),
                model: text_field("model"),
                exit: case["exit"].as_i64().expect("exit") as i32,
                message: text_field("message"),
                args: case["args"]
                    .as_array()
                    .map(|args| {
                        args.iter()
                            .map(|a| a.as_str().expect("args are strings").to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
                stdin: case["stdin"].as_str().map(str::to_string),
            }
        })
        .collect()
}

/// What a finished run gave.
struct Run {
    status: ExitStatus,
    stderr: String,
    elapsed: Duration,
}

/// Waits for `child` at most `limit`; kills it past that (`None`).
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `decide solve MODEL --output OUTPUT ARGS` in `dir`, feeding `stdin` when given.
/// `Err` describes a run that did not end within [`CASE_LIMIT`].
fn solve(
    dir: &Path,
    model: &str,
    output: &Path,
    args: &[String],
    stdin: Option<&Path>,
) -> Result<Run, String> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_decide"))
        .current_dir(dir)
        .arg("solve")
        .arg(model)
        .arg("--output")
        .arg(output)
        .args(args)
        .stdin(match stdin {
            Some(file) => Stdio::from(std::fs::File::open(file).expect("stdin file")),
            None => Stdio::null(),
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("decide starts");
    // Drained on a thread: a child blocked on a full pipe would look like a hang.
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    let status = wait_at_most(&mut child, CASE_LIMIT);
    let elapsed = start.elapsed();
    let stderr = reader.join().expect("stderr reader");
    match status {
        Some(status) => Ok(Run {
            status,
            stderr,
            elapsed,
        }),
        None => Err(format!(
            "did not end within {CASE_LIMIT:?} (killed); stderr so far: {stderr}"
        )),
    }
}

/// Everything wrong with one run, empty when it behaved.
fn check_run(
    run: &Run,
    expect_exit: i32,
    expect_message: &str,
    output: &Path,
    output_dir: &Path,
) -> Vec<String> {
    let mut problems = Vec::new();
    if run.status.code() != Some(expect_exit) {
        problems.push(format!(
            "exit {:?} (expected {expect_exit})",
            run.status.code()
        ));
    }
    if run.elapsed > CASE_LIMIT {
        problems.push(format!("took {:?}", run.elapsed));
    }
    if run.stderr.contains("panicked") || run.stderr.contains("RUST_BACKTRACE") {
        problems.push("panicked".to_string());
    }
    if !run.stderr.contains(expect_message) {
        problems.push(format!("stderr lacks {expect_message:?}"));
    }
    match run.status.code() {
        Some(1 | 2) => {
            if output.exists() {
                problems.push("an output file was written for a refused model".to_string());
            }
            if run.stderr.trim_end().lines().count() != 1 {
                problems.push("the error is not one line".to_string());
            }
            // A cause printed twice ("X: No such file: No such file") is noise to the reader.
            let parts: Vec<&str> = run.stderr.trim_end().split(": ").collect();
            if parts.windows(2).any(|pair| pair[0] == pair[1]) {
                problems.push("the error repeats a cause".to_string());
            }
        }
        Some(0 | 3) => match std::fs::read_to_string(output) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(json) if json["report"]["status"].is_string() => {}
                _ => problems.push("the output is not a solution document".to_string()),
            },
            Err(e) => problems.push(format!("no output file: {e}")),
        },
        _ => {}
    }
    // Temporary files of an atomic write are removed on every path but kill -9.
    let leftovers: Vec<String> = std::fs::read_dir(output_dir)
        .expect("output dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| {
            Path::new(name) != output.file_name().map(Path::new).unwrap_or(Path::new(""))
        })
        .collect();
    if !leftovers.is_empty() {
        problems.push(format!("files left beside the output: {leftovers:?}"));
    }
    problems
}

#[test]
fn every_corpus_case_ends_quickly_with_its_exit_code_and_message() {
    let dir = corpus_dir();
    let cases = load_cases();
    let mut failures = Vec::new();
    for case in &cases {
        let out_dir = tempfile::tempdir().expect("tempdir");
        let output = out_dir.path().join("solution.json");
        let stdin = case.stdin.as_ref().map(|file| dir.join(file));
        let problems = match solve(&dir, &case.model, &output, &case.args, stdin.as_deref()) {
            Ok(run) => {
                let problems = check_run(&run, case.exit, &case.message, &output, out_dir.path());
                if problems.is_empty() {
                    continue;
                }
                let mut problems = problems;
                problems.push(format!("stderr: {}", run.stderr.trim_end()));
                problems
            }
            Err(hang) => vec![hang],
        };
        failures.push(format!(
            "{} ({}): {}",
            case.name,
            case.model,
            problems.join("; ")
        ));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_corpus_covers_every_format_and_has_no_stray_files() {
    let dir = corpus_dir();
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "at least 40 cases, found {}",
        cases.len()
    );
    let names: BTreeSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    for (family, folder) in [
        ("CSV", "csv"),
        ("JSON", "json"),
        ("Cassandra", "cassandra"),
        ("binary", "binary"),
        ("standard input", "stdin"),
    ] {
        let accepted = cases
            .iter()
            .filter(|c| {
                c.model.starts_with(folder)
                    || c.stdin.as_deref().is_some_and(|s| s.starts_with(folder))
            })
            .filter(|c| c.exit == 0)
            .count();
        let refused = cases
            .iter()
            .filter(|c| {
                c.model.starts_with(folder)
                    || c.stdin.as_deref().is_some_and(|s| s.starts_with(folder))
            })
            .filter(|c| c.exit != 0)
            .count();
        assert!(
            accepted >= 1 && refused >= 1,
            "{family}: {accepted} accepted and {refused} refused cases"
        );
    }
    // Every file of the corpus is a case's model, its sidecar or its standard input: a file
    // no case names would be a check that silently never runs.
    let mut named: BTreeSet<PathBuf> = BTreeSet::new();
    for case in &cases {
        named.insert(PathBuf::from(&case.model));
        if let Some(stdin) = &case.stdin {
            named.insert(PathBuf::from(stdin));
        }
        if let Some(stem) = case.model.strip_suffix(".transitions.csv") {
            named.insert(PathBuf::from(format!("{stem}.meta.json")));
        }
    }
    for folder in ["csv", "json", "cassandra", "binary", "stdin"] {
        for entry in std::fs::read_dir(dir.join(folder)).expect("corpus folder") {
            let file = PathBuf::from(folder).join(entry.expect("entry").file_name());
            assert!(
                named.contains(&file),
                "{} belongs to no case",
                file.display()
            );
        }
    }
}

/// Inputs too large for the repository, generated with their expected outcome.
fn generated_cases(dir: &Path) -> Vec<(String, i32, String)> {
    let mut cases = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>, exit: i32, message: &str| {
        std::fs::write(dir.join(name), bytes).expect("write a generated case");
        cases.push((name.to_string(), exit, message.to_string()));
    };
    // One transition nested a million arrays deep: 2 MB of brackets, read without recursion.
    let depth = 1_000_000;
    add(
        "nested_million.json",
        format!(
            "{{\"discount\": 0.9, \"transitions\": [{}{}]}}",
            "[".repeat(depth),
            "]".repeat(depth)
        )
        .into_bytes(),
        1,
        "nested_million.json:1: transitions[0]: expected 5 elements",
    );
    // A reward written with 8 million digits: read in linear time, and it overflows to
    // infinity, which is refused.
    add(
        "long_number.json",
        format!(
            "{{\"discount\": 0.9, \"transitions\": [[0, 0, 0, 1, 9{}]]}}",
            "0".repeat(8_000_000)
        )
        .into_bytes(),
        1,
        "reward is inf, not a finite number",
    );
    // A probability of 1 written with 8 million zeros after the point: exactly 1, accepted.
    add(
        "long_one.json",
        format!(
            "{{\"discount\": 0.9, \"transitions\": [[0, 0, 0, 1.{}, 1]]}}",
            "0".repeat(8_000_000)
        )
        .into_bytes(),
        0,
        "",
    );
    // 300 000 transitions, the very last one invalid: the whole document is read, then
    // refused naming that element.
    let n = 300_000;
    let mut text = String::from("{\"discount\": 0.9, \"transitions\": [\n");
    for s in 0..n {
        let probability = if s + 1 == n { "0.5" } else { "1.0" };
        text.push_str(&format!("[{s}, 0, {}, {probability}, 1.0],\n", (s + 1) % n));
    }
    text.truncate(text.len() - 2);
    text.push_str("\n]}\n");
    add(
        "many_transitions.json",
        text.into_bytes(),
        1,
        &format!(
            "many_transitions.json:{}: transitions[{}]: state s{}, action a0: probabilities sum to 0.5",
            n + 1,
            n - 1,
            n - 1
        ),
    );
    // A stage-dependent model of 4 000 000 declared states (one copy fits, about 0.4 GiB)
    // in 10 000 stages, each a model of its own: terabytes, refused before a builder is made
    // for each stage. Stage rows in CSV (refused as the stages come, at the first that no
    // longer fits), and JSON stages of a few bytes each (refused from their count).
    std::fs::write(
        dir.join("stages_beyond_memory.meta.json"),
        r#"{"discount": 0.9, "states": 4000000}"#,
    )
    .expect("write a generated sidecar");
    let stages = 10_000;
    let mut rows = String::from("state,action,next_state,probability,reward,stage\n");
    for t in 0..stages {
        rows.push_str(&format!("0,0,0,1,0,{t}\n"));
    }
    add(
        "stages_beyond_memory.transitions.csv",
        rows.into_bytes(),
        1,
        "stages of 4000000 states), more than the",
    );
    add(
        "stages_beyond_memory.json",
        format!(
            "{{\"discount\": 0.9, \"states\": 4000000, \"stages\": [{}]}}",
            vec![r#"{"transitions": []}"#; stages].join(", ")
        )
        .into_bytes(),
        1,
        "GiB of memory (10000 stages of 4000000 states), more than the",
    );
    // A 16 MiB line with no newline: not a CSV header.
    add(
        "one_long_line.transitions.csv",
        vec![b'x'; 16 << 20],
        1,
        "one_long_line.transitions.csv:1: expected the header",
    );
    // A Cassandra name of 100 000 letters: past the reader's token cap.
    add(
        "long_name.MDP",
        format!(
            "discount: 0.9\nvalues: reward\nstates: {}\nactions: 1\n",
            "s".repeat(100_000)
        )
        .into_bytes(),
        1,
        "long_name.MDP:3: a name or number longer than 65536 bytes",
    );
    cases
}

#[test]
fn generated_huge_inputs_end_quickly_with_their_exit_code_and_message() {
    let models = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (name, exit, message) in generated_cases(models.path()) {
        let out_dir = tempfile::tempdir().expect("tempdir");
        let output = out_dir.path().join("solution.json");
        let problems = match solve(models.path(), &name, &output, &[], None) {
            Ok(run) => {
                let mut problems = check_run(&run, exit, &message, &output, out_dir.path());
                if !problems.is_empty() {
                    problems.push(format!("stderr: {}", run.stderr.trim_end()));
                }
                problems
            }
            Err(hang) => vec![hang],
        };
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
