//! What `decide solve` guarantees beyond the right answer, checked on the real binary:
//! the same input gives byte-identical output across runs and thread counts (but for the
//! measured `report.seconds`); Ctrl-C, SIGTERM and `--time-limit` stop a solve with its
//! best result and certificate (exit 3); and an output file is never seen half-written,
//! even when the process is killed with SIGKILL at any moment.
//!
//! Signals are sent with the `kill` command, so the tests need a Unix system.

use decide_core::generate::splitmix64;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

fn decide() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_decide"));
    command.env("RUST_BACKTRACE", "0");
    command
}

fn run(args: &[&str]) -> Output {
    decide().args(args).output().expect("decide runs")
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A ring of `n` states with one action each, `s → s+1 (mod n)`, reward `s mod 7`, and its
/// sidecar with `discount`. Value iteration's certified gap shrinks only by the discount
/// per sweep on it, so at 0.9999 and a tolerance of 1e-12 a solve takes hundreds of
/// thousands of sweeps: long enough to interrupt, while the file loads in milliseconds.
fn write_ring(dir: &Path, name: &str, n: usize, discount: f64) -> PathBuf {
    let mut rows = String::from("state,action,next_state,probability,reward\n");
    for s in 0..n {
        rows.push_str(&format!("{s},0,{},1,{}\n", (s + 1) % n, s % 7));
    }
    let model = dir.join(format!("{name}.transitions.csv"));
    std::fs::write(&model, rows).expect("write the model");
    std::fs::write(
        dir.join(format!("{name}.meta.json")),
        format!(r#"{{"discount": {discount}}}"#),
    )
    .expect("write the sidecar");
    model
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

fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("the kill command runs");
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Waits until `pid` catches SIGINT (bit 1 of `SigCgt` in `/proc/PID/status`): decide
/// installs its handler once the model is read, just before solving, and a signal that
/// came earlier would end the process the default way. Without `/proc` (not Linux), a
/// second has to do.
fn wait_until_catching_sigint(pid: u32) {
    let status_file = format!("/proc/{pid}/status");
    if !Path::new(&status_file).exists() {
        std::thread::sleep(Duration::from_secs(1));
        return;
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let caught = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("SigCgt:"))
                    .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            })
            .unwrap_or(0);
        const SIGINT_BIT: u64 = 1 << (2 - 1);
        if caught & SIGINT_BIT != 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("decide did not install its interrupt handler within 30 s");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A solution document with every per-state list complete and bounds around the values.
fn assert_complete_solution(json: &Value, n_states: usize) {
    for key in ["values", "policy", "lower", "upper"] {
        assert_eq!(
            json[key].as_array().map(Vec::len),
            Some(n_states),
            "{key} has one entry per state"
        );
    }
    let report = &json["report"];
    for key in [
        "algorithm",
        "status",
        "iterations",
        "residual",
        "policy_gap",
    ] {
        assert!(!report[key].is_null(), "report.{key} is there");
    }
}

// ------------------------------------------------------------------------------------
// Determinism

/// The output text without its `"seconds":…` field, the one measurement of the clock.
fn without_seconds(text: &str) -> String {
    const KEY: &str = "\"seconds\":";
    assert_eq!(
        text.matches(KEY).count(),
        1,
        "one seconds field in {text:.200}"
    );
    let start = text.find(KEY).unwrap_or(0);
    let value_end = text[start + KEY.len()..]
        .find([',', '}'])
        .map_or(text.len(), |i| start + KEY.len() + i);
    format!("{}{}", &text[..start], &text[value_end..])
}

/// Where two texts first differ, for the failure message.
fn first_difference(a: &str, b: &str) -> String {
    let at = a
        .bytes()
        .zip(b.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let show = |text: &str| {
        text.get(at.saturating_sub(60)..(at + 60).min(text.len()))
            .unwrap_or("")
            .to_string()
    };
    format!("at byte {at}:\n  {}\n  {}", show(a), show(b))
}

#[test]
fn output_is_byte_identical_across_runs_and_thread_counts_but_for_seconds() {
    let models_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/mdp");
    let mut models: Vec<PathBuf> = std::fs::read_dir(&models_dir)
        .expect("testdata/mdp")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path_str(path).ends_with(".transitions.csv"))
        .collect();
    models.sort();
    assert!(models.len() >= 5, "the shipped models: {models:?}");
    let out = tempfile::tempdir().expect("tempdir");
    let mut differences = Vec::new();
    for model in &models {
        for algorithm in ["auto", "vi", "gs", "mpi"] {
            // Twice with the default thread count (all cores), then 1 and 2 threads.
            let variants: [&[&str]; 4] = [&[], &[], &["--threads", "1"], &["--threads", "2"]];
            let mut outputs = Vec::new();
            for (k, extra) in variants.iter().enumerate() {
                let solution = out.path().join(format!("solution{k}.json"));
                let policy = out.path().join(format!("policy{k}.csv"));
                let mut args = vec![
                    "solve",
                    path_str(model),
                    "--algorithm",
                    algorithm,
                    "--quiet",
                    "--output",
                    path_str(&solution),
                    "--policy-csv",
                    path_str(&policy),
                ];
                args.extend_from_slice(extra);
                let result = run(&args);
                assert_eq!(
                    result.status.code(),
                    Some(0),
                    "{args:?}: {}",
                    String::from_utf8_lossy(&result.stderr)
                );
                let text = std::fs::read_to_string(&solution).expect("solution written");
                let policy = std::fs::read_to_string(&policy).expect("policy written");
                outputs.push((format!("{extra:?}"), without_seconds(&text), policy));
            }
            let (first_name, first_solution, first_policy) = &outputs[0];
            for (name, solution, policy) in &outputs[1..] {
                let label = || {
                    format!(
                        "{} --algorithm {algorithm}: {first_name} vs {name}",
                        model.file_name().unwrap_or_default().to_string_lossy()
                    )
                };
                if solution != first_solution {
                    differences.push(format!(
                        "{} (solution) {}",
                        label(),
                        first_difference(first_solution, solution)
                    ));
                }
                if policy != first_policy {
                    differences.push(format!("{} (policy CSV)", label()));
                }
            }
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// Solves `model` with `args` once per entry of `variants` (more arguments each) and
/// returns, for every variant whose solution (less `report.seconds`) or policy CSV differs
/// from the first's, a description of the difference.
fn differences_across(model: &Path, args: &[&str], variants: &[&[&str]]) -> Vec<String> {
    let out = tempfile::tempdir().expect("tempdir");
    let mut outputs = Vec::new();
    for (k, extra) in variants.iter().enumerate() {
        let solution = out.path().join(format!("solution{k}.json"));
        let policy = out.path().join(format!("policy{k}.csv"));
        let mut all = vec!["solve", path_str(model), "--quiet"];
        all.extend_from_slice(args);
        all.extend_from_slice(&[
            "--output",
            path_str(&solution),
            "--policy-csv",
            path_str(&policy),
        ]);
        all.extend_from_slice(extra);
        let result = run(&all);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{all:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let text = std::fs::read_to_string(&solution).expect("solution written");
        let policy = std::fs::read_to_string(&policy).expect("policy written");
        outputs.push((format!("{extra:?}"), without_seconds(&text), policy));
    }
    let (first_name, first_solution, first_policy) = &outputs[0];
    let mut differences = Vec::new();
    for (name, solution, policy) in &outputs[1..] {
        let label = format!(
            "{} {args:?}: {first_name} vs {name}",
            model.file_name().unwrap_or_default().to_string_lossy()
        );
        if solution != first_solution {
            differences.push(format!(
                "{label} (solution) {}",
                first_difference(first_solution, solution)
            ));
        }
        if policy != first_policy {
            differences.push(format!("{label} (policy CSV)"));
        }
    }
    differences
}

/// The shipped models have at most 2 000 states, fewer than one parallel chunk of the
/// Bellman kernels (4 096 states), so on them every thread count runs the same single
/// chunk. These generated models span three chunks and more, which the threads really
/// share: a fast-mixing random model and a slow-mixing grid.
#[test]
fn models_of_several_parallel_chunks_give_the_same_bytes_on_1_2_and_3_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let random = dir.path().join("random.decide");
    let grid = dir.path().join("grid.decide");
    for args in [
        vec![
            "generate",
            "random",
            "--states",
            "12000",
            "--actions",
            "4",
            "--outcomes",
            "5",
            "--seed",
            "7",
            path_str(&random),
        ],
        vec!["generate", "gridworld", "--width", "100", path_str(&grid)],
    ] {
        let result = run(&args);
        assert_eq!(
            result.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
    }
    let variants: [&[&str]; 4] = [
        &[],
        &["--threads", "1"],
        &["--threads", "2"],
        &["--threads", "3"],
    ];
    let mut differences = Vec::new();
    for (model, algorithms) in [
        (&random, &["auto", "vi", "gs", "mpi", "pi"][..]),
        (&grid, &["auto", "vi", "gs", "mpi"][..]),
    ] {
        for algorithm in algorithms {
            differences.extend(differences_across(
                model,
                &["--algorithm", algorithm],
                &variants,
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

// ------------------------------------------------------------------------------------
// Interruption and time limit

#[test]
fn ctrl_c_and_sigterm_stop_a_solve_with_its_best_result_and_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 20_000;
    let model = write_ring(dir.path(), "ring", n, 0.9999);
    for signal in ["INT", "TERM"] {
        let output = dir.path().join(format!("interrupted-{signal}.json"));
        let mut child = decide()
            .args([
                "solve",
                path_str(&model),
                "--algorithm",
                "vi",
                "--tolerance",
                "1e-12",
                "--output",
                path_str(&output),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("decide starts");
        wait_until_catching_sigint(child.id());
        // Some sweeps first, so that there is a best result to keep.
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the solve is still running when the signal comes"
        );
        send_signal(child.id(), signal);
        let status = wait_at_most(&mut child, Duration::from_secs(20))
            .unwrap_or_else(|| panic!("SIG{signal}: decide did not stop within 20 s"));
        let result = child.wait_with_output().expect("output");
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(
            status.code(),
            Some(3),
            "SIG{signal}: exit 3; stderr: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&result.stdout);
        assert!(
            stdout.contains("not converged (interrupted)"),
            "SIG{signal}: the summary says so: {stdout}"
        );
        let json = read_json(&output);
        assert_complete_solution(&json, n);
        assert_eq!(json["report"]["status"], "interrupted", "SIG{signal}");
        assert_eq!(json["report"]["converged"], false, "SIG{signal}");
        assert!(
            json["report"]["iterations"].as_u64().unwrap_or(0) > 0,
            "SIG{signal}: sweeps were made before the signal"
        );
    }
}

#[test]
fn time_limit_stops_a_solve_with_status_time_limit_and_exit_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 20_000;
    let model = write_ring(dir.path(), "ring", n, 0.9999);
    let output = dir.path().join("timed.json");
    let start = Instant::now();
    let mut child = decide()
        .args([
            "solve",
            path_str(&model),
            "--algorithm",
            "vi",
            "--tolerance",
            "1e-12",
            "--time-limit",
            "0.5",
            "--quiet",
            "--output",
            path_str(&output),
        ])
        .spawn()
        .expect("decide starts");
    let status = wait_at_most(&mut child, Duration::from_secs(30))
        .expect("a 0.5 s time limit stops the solve well within 30 s");
    assert_eq!(status.code(), Some(3));
    let json = read_json(&output);
    assert_complete_solution(&json, n);
    assert_eq!(json["report"]["status"], "time_limit");
    let seconds = json["report"]["seconds"].as_f64().expect("seconds");
    assert!(
        seconds >= 0.5,
        "stopped at {seconds} s, not before the limit"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?} for a 0.5 s limit",
        start.elapsed()
    );
}

// ------------------------------------------------------------------------------------
// Atomic output

#[test]
fn kill_9_at_any_moment_leaves_no_output_or_a_complete_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 200 000 states: reading, 20 sweeps and writing the 11 MB solution each take a
    // visible share of the run, so kill moments spread over it land in all three.
    let n = 200_000;
    let model = write_ring(dir.path(), "big", n, 0.9999);
    let solve_into = |output: &Path| {
        decide()
            .args([
                "solve",
                path_str(&model),
                "--algorithm",
                "vi",
                "--max-iterations",
                "20",
                "--quiet",
                "--output",
                path_str(output),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("decide starts")
    };

    // Whole runs, to know how long one takes here (the faster of two: the first may pay
    // for a cold cache).
    let reference_dir = dir.path().join("reference");
    std::fs::create_dir(&reference_dir).expect("mkdir");
    let mut full_run = Duration::MAX;
    for _ in 0..2 {
        let start = Instant::now();
        let mut child = solve_into(&reference_dir.join("solution.json"));
        let status = wait_at_most(&mut child, Duration::from_secs(120)).expect("the run ends");
        full_run = full_run.min(start.elapsed());
        assert_eq!(
            status.code(),
            Some(3),
            "20 sweeps end on the iteration limit"
        );
    }
    assert_complete_solution(&read_json(&reference_dir.join("solution.json")), n);

    const RUNS: u32 = 10;
    const OLD: &str = "{\"previous\": \"complete\"}\n";
    let seed = 20_261_203u64;
    let mut outcomes = Vec::new();
    for run in 0..RUNS {
        let out_dir = dir.path().join(format!("run{run}"));
        std::fs::create_dir(&out_dir).expect("mkdir");
        let output = out_dir.join("solution.json");
        // Every other run replaces an existing file, which must then stay whole too.
        let replaces = run % 2 == 1;
        if replaces {
            std::fs::write(&output, OLD).expect("write the previous output");
        }
        // Moments spread over the run, one in each tenth of [0, 1] jittered, then bent
        // towards its end (square root), where the output is written.
        let jitter = (splitmix64(seed, u64::from(run)) % 1000) as f64 / 1000.0;
        let fraction = ((f64::from(run) + jitter) / f64::from(RUNS)).sqrt();
        let moment = full_run.mul_f64(fraction);
        let mut child = solve_into(&output);
        std::thread::sleep(moment);
        let _ = child.kill(); // SIGKILL; the run may also have ended already.
        let status = child.wait().expect("wait");

        let outcome = if !output.exists() {
            assert!(!replaces, "run {run}: the previous output vanished");
            "no output"
        } else {
            let text = std::fs::read_to_string(&output).expect("read output");
            if text == OLD {
                "previous output intact"
            } else {
                let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
                    panic!("run {run} killed at {moment:?}: a half-written output ({e})")
                });
                assert_complete_solution(&json, n);
                "complete new output"
            }
        };
        // Nothing else may appear beside the output but the atomic writer's temporary
        // file, which only SIGKILL during the write can leave behind.
        let mut leftovers = Vec::new();
        for entry in std::fs::read_dir(&out_dir).expect("read_dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if name == "solution.json" {
                continue;
            }
            assert!(
                name.starts_with(".decide-") && name.ends_with(".tmp"),
                "run {run}: unexpected file {name:?} beside the output"
            );
            leftovers.push(name);
        }
        outcomes.push(format!(
            "run {run}: killed at {moment:?} ({}), {outcome}, {} temporary file(s) left",
            if status.code().is_some() {
                "had already exited"
            } else {
                "was running"
            },
            leftovers.len()
        ));
    }
    // Shown with --nocapture: which moments hit the write, and what SIGKILL leaves.
    eprintln!("full run {full_run:?}\n{}", outcomes.join("\n"));
}

/// SIGINT and SIGTERM at moments spread over a whole run (reading, solving, writing): a
/// signal before the handler is installed (while reading) ends the process the default way
/// and nothing is written; any later one gives exit 3 and a complete solution. Unlike
/// SIGKILL, no moment may leave a temporary file behind: the write, once begun, finishes.
#[test]
fn ctrl_c_or_sigterm_at_any_moment_leaves_no_output_or_a_complete_one() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 200_000;
    let model = write_ring(dir.path(), "big", n, 0.9999);
    let solve_into = |output: &Path| {
        decide()
            .args([
                "solve",
                path_str(&model),
                "--algorithm",
                "vi",
                "--max-iterations",
                "20",
                "--quiet",
                "--output",
                path_str(output),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("decide starts")
    };
    let reference = dir.path().join("reference.json");
    let start = Instant::now();
    let mut child = solve_into(&reference);
    let status = wait_at_most(&mut child, Duration::from_secs(120)).expect("the run ends");
    let full_run = start.elapsed();
    assert_eq!(
        status.code(),
        Some(3),
        "20 sweeps end on the iteration limit"
    );

    const RUNS: u32 = 8;
    let seed = 20_261_204u64;
    let mut outcomes = Vec::new();
    for run in 0..RUNS {
        let signal = if run % 2 == 0 { "INT" } else { "TERM" };
        let out_dir = dir.path().join(format!("run{run}"));
        std::fs::create_dir(&out_dir).expect("mkdir");
        let output = out_dir.join("solution.json");
        let jitter = (splitmix64(seed, u64::from(run)) % 1000) as f64 / 1000.0;
        let moment = full_run.mul_f64((f64::from(run) + jitter) / f64::from(RUNS));
        let mut child = solve_into(&output);
        std::thread::sleep(moment);
        if child.try_wait().expect("try_wait").is_none() {
            send_signal(child.id(), signal);
        }
        let status = wait_at_most(&mut child, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("run {run}: SIG{signal} at {moment:?}: no exit in 60 s"));
        let outcome = match (status.code(), status.signal()) {
            (None, Some(_)) => {
                assert!(
                    !output.exists(),
                    "run {run}: ended by SIG{signal} at {moment:?} yet wrote an output"
                );
                "ended by the signal while reading, no output".to_string()
            }
            (Some(3), _) => {
                let json = read_json(&output);
                assert_complete_solution(&json, n);
                format!(
                    "exit 3, complete output, status {}",
                    json["report"]["status"]
                )
            }
            other => panic!("run {run}: SIG{signal} at {moment:?}: unexpected end {other:?}"),
        };
        let names: Vec<String> = std::fs::read_dir(&out_dir)
            .expect("read_dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name != "solution.json")
            .collect();
        assert!(
            names.is_empty(),
            "run {run}: SIG{signal} at {moment:?} left {names:?} beside the output"
        );
        outcomes.push(format!("run {run}: SIG{signal} at {moment:?}: {outcome}"));
    }
    eprintln!("full run {full_run:?}\n{}", outcomes.join("\n"));
}

/// An output that cannot be written is a usage error (exit 2) whose one line names the
/// output the user asked for, not the temporary file, and says the cause once.
#[test]
fn an_output_that_cannot_be_written_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = write_ring(dir.path(), "ring", 3, 0.5);
    let output = dir.path().join("no_such_folder").join("solution.json");
    let result = run(&[
        "solve",
        path_str(&model),
        "--quiet",
        "--output",
        path_str(&output),
    ]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: {}: No such file or directory (os error 2)",
            output.display()
        )
    );
}

/// A thread count far beyond any machine (a typo) is refused at once instead of starting
/// that many threads; a generous one still solves.
#[test]
fn absurd_thread_counts_are_refused_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 50, 0.9);
    let start = Instant::now();
    let out = run(&["solve", path_str(&model), "--threads", "100000", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at most 1024"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(5));
    let out = run(&["solve", path_str(&model), "--threads", "64", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

// ------------------------------------------------------------------------------------
// The tester's report: CLI and I/O defects, one test each

/// The path of a file under `testdata/`.
fn testdata(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(relative)
}

/// `out`'s exit code is `code` and its stderr is one line containing `fragment`, with no
/// panic.
fn assert_refused(out: &Output, code: i32, fragment: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(stderr.contains(fragment), "{fragment:?} not in: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `--time-limit 1e300` panicked ("cannot convert float seconds to Duration", exit 101): a
/// limit beyond what a `Duration` holds is no limit, in every command that takes one; NaN
/// and negative limits are usage errors.
#[test]
fn huge_time_limits_mean_no_limit_and_bad_ones_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 5, 0.5);
    let bridge = testdata("robust/bridge.transitions.csv");
    let jobs = testdata("sched/examples.json");
    for huge in ["1e300", "1.7976931348623157e308", "inf"] {
        for args in [
            vec!["solve", path_str(&model), "--time-limit", huge, "-q"],
            vec![
                "solve",
                path_str(&bridge),
                "--ambiguity",
                "l1:0.2",
                "--time-limit",
                huge,
                "-q",
            ],
            vec![
                "solve",
                path_str(&bridge),
                "--ambiguity",
                "interval",
                "--time-limit",
                huge,
                "-q",
            ],
            vec![
                "schedule",
                path_str(&jobs),
                "--method",
                "exact",
                "--time-limit",
                huge,
                "-q",
            ],
        ] {
            let out = run(&args);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
            assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
        }
    }
    for bad in ["nan", "-1", "-inf"] {
        for command in [
            vec!["solve", path_str(&model)],
            vec!["schedule", path_str(&jobs)],
        ] {
            let mut args = command.clone();
            args.extend(["--time-limit", bad]);
            assert_refused(&run(&args), 2, "--time-limit must be a non-negative number");
        }
    }
}

/// A finite horizon of a billion decisions on a 2-state model tried to allocate its
/// per-stage values (24 GB) and aborted; `generate` of 4 000 000 000 states to `.decide`
/// aborted allocating 32 GB. Both are refused before allocating, saying how much they need.
#[test]
fn finite_horizons_and_generated_models_beyond_memory_are_refused_first() {
    let Some(available) = decide_io::available_memory() else {
        return; // not Linux: nothing is refused for its size
    };
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 2, 0.5);
    let policy = dir.path().join("policy.csv");
    std::fs::write(&policy, "state,action\n0,0\n1,0\n").unwrap();
    // 4e9 stages of 2 states need 320 GB; skip on a machine that has that much.
    if available < 300 << 30 {
        let horizon = "4000000000";
        for args in [
            vec![
                "solve",
                path_str(&model),
                "--criterion",
                "finite",
                "--horizon",
                horizon,
            ],
            vec![
                "eval",
                path_str(&model),
                "--policy",
                path_str(&policy),
                "--criterion",
                "finite",
                "--horizon",
                horizon,
            ],
        ] {
            let start = Instant::now();
            let out = run(&args);
            assert_refused(&out, 2, "with horizon 4000000000 needs at least");
            assert!(String::from_utf8_lossy(&out.stderr).contains("GiB of memory"));
            assert!(start.elapsed() < Duration::from_secs(5));
        }
    }
    if available < 500 << 30 {
        for name in ["x.decide", "x.json"] {
            let output = dir.path().join(name);
            let out = run(&[
                "generate",
                "random",
                "--states",
                "4000000000",
                "--actions",
                "2",
                "--outcomes",
                "2",
                "--seed",
                "1",
                path_str(&output),
            ]);
            assert_refused(&out, 2, "needs at least");
            assert!(!output.exists());
        }
    }
    // A horizon that fits still solves.
    let out = run(&[
        "solve",
        path_str(&model),
        "--criterion",
        "finite",
        "--horizon",
        "1000",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// `convert` of a model with interval bounds dropped them silently. JSON keeps them (the
/// converted model solves to the same robust answer); `.decide`, which has no place for them,
/// is refused.
#[test]
fn convert_keeps_interval_bounds_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let bridge = testdata("robust/bridge.transitions.csv");
    let json = dir.path().join("bridge.json");
    let out = run(&["convert", path_str(&bridge), path_str(&json)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let document = read_json(&json);
    for transition in document["transitions"].as_array().unwrap() {
        assert_eq!(transition.as_array().unwrap().len(), 7, "{transition}");
    }
    let mut answers = Vec::new();
    for (i, model) in [&bridge, &json].into_iter().enumerate() {
        let output = dir.path().join(format!("solution{i}.json"));
        let out = run(&[
            "solve",
            path_str(model),
            "--ambiguity",
            "interval",
            "-q",
            "--output",
            path_str(&output),
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let solution = read_json(&output);
        answers.push((solution["values"].clone(), solution["policy"].clone()));
    }
    assert_eq!(answers[0], answers[1]);
    // And back again: the JSON converts to JSON with the same bounds.
    let again = dir.path().join("again.json");
    let out = run(&["convert", path_str(&json), path_str(&again)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        read_json(&again)["transitions"],
        document["transitions"],
        "a second conversion changes nothing"
    );
    let binary = dir.path().join("bridge.decide");
    let out = run(&["convert", path_str(&bridge), path_str(&binary)]);
    assert_refused(&out, 2, "the .decide format has no interval bounds");
    assert!(!binary.exists());
}

/// `--output link.json` replaced the link with a regular file (and as root `--output
/// /dev/stdout` replaced /dev/stdout). A link is followed and the file it points to replaced;
/// a target that is not a regular file (here /dev/null) is written directly and stays what
/// it is.
#[cfg(unix)]
#[test]
fn outputs_follow_symlinks_and_write_devices_in_place() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 3, 0.5);
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    // A dangling link: its target is created, the link kept.
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink("sub/policy.csv", &dangling).unwrap();
    let out = run(&[
        "solve",
        path_str(&model),
        "-q",
        "--output",
        path_str(&link),
        "--policy-csv",
        path_str(&dangling),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for l in [&link, &dangling] {
        assert!(
            std::fs::symlink_metadata(l)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{} is still a link",
            l.display()
        );
    }
    assert_complete_solution(&read_json(&real), 3);
    let policy = std::fs::read_to_string(sub.join("policy.csv")).unwrap();
    assert!(policy.starts_with("state,action\n"), "{policy}");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .chain(std::fs::read_dir(&sub).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "no temporary file left: {names:?}"
    );

    // /dev/null as both outputs: written, and still the character device.
    let null = Path::new("/dev/null");
    if null.exists() {
        let out = run(&[
            "solve",
            path_str(&model),
            "-q",
            "--output",
            "/dev/null",
            "--policy-csv",
            "/dev/null",
        ]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let meta = std::fs::symlink_metadata(null).unwrap();
        assert!(meta.file_type().is_char_device(), "/dev/null is a device");
    }
}

/// Bad arguments were reported as invalid models (exit 1) blaming the model file.
#[test]
fn argument_mistakes_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 3, 0.5);
    let m = path_str(&model);
    let cases: [(&[&str], &str); 5] = [
        (&["--discount", "nan"], "discount NaN is outside [0, 1)"),
        (
            &["--discount", "1"],
            "--criterion total or --criterion average",
        ),
        (&["--discount", "-0.5"], "discount -0.5 is outside [0, 1)"),
        (
            &["--tolerance", "-1"],
            "--tolerance must be a non-negative number",
        ),
        (
            &["--probability-tolerance", "-1e-9"],
            "--probability-tolerance must be",
        ),
    ];
    for (args, message) in cases {
        let mut all = vec!["solve", m];
        all.extend(args);
        assert_refused(&run(&all), 2, message);
    }
    let text = dir.path().join("m.txt");
    std::fs::write(&text, "not a model").unwrap();
    assert_refused(
        &run(&["solve", path_str(&text)]),
        2,
        "m.txt: unknown model format",
    );
    assert_refused(
        &run(&["solve", path_str(dir.path())]),
        2,
        "is a directory, not a model file",
    );
}

/// One file for two outputs; duplicate terminal values and names; a model CSV given as a
/// policy; a deterministic policy naming a state twice.
#[test]
fn conflicting_outputs_and_duplicates_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_ring(dir.path(), "ring", 2, 0.5);
    let m = path_str(&model);
    let out_file = dir.path().join("out.json");
    let o = path_str(&out_file);
    let dotted = format!("{}/./out.json", dir.path().display());
    for second in [o, dotted.as_str()] {
        let out = run(&["solve", m, "--output", o, "--policy-csv", second]);
        assert_refused(&out, 2, "the same file for --output and --policy-csv");
        assert!(!out_file.exists());
    }

    let terminal = dir.path().join("terminal.json");
    std::fs::write(
        &terminal,
        r#"{"discount": 0.9, "states": 2, "terminal_values": [[1, 5], [1, 6]], "transitions": [[0, 0, 1, 1, 0]]}"#,
    )
    .unwrap();
    assert_refused(
        &run(&["solve", path_str(&terminal)]),
        1,
        "terminal_values[1]: state s1 has a terminal value twice (5 and 6)",
    );
    let names = dir.path().join("names.json");
    std::fs::write(
        &names,
        r#"{"discount": 0.9, "states": ["a", "a"], "transitions": [[0, 0, 1, 1, 0], [1, 0, 0, 1, 0]]}"#,
    )
    .unwrap();
    assert_refused(
        &run(&["solve", path_str(&names)]),
        1,
        "states: \"a\" names both s0 and s1",
    );

    // A model CSV passed as --policy: a usage error naming the columns it should not have.
    let out = run(&["eval", m, "--policy", m]);
    assert_refused(
        &out,
        2,
        "not a policy file: unknown columns \"next_state\", \"reward\"",
    );
    let twice = dir.path().join("twice.csv");
    std::fs::write(&twice, "state,action\n0,0\n0,0\n1,0\n").unwrap();
    let out = run(&["eval", m, "--policy", path_str(&twice)]);
    assert_refused(
        &out,
        1,
        "twice.csv:3: state s0 appears twice in a deterministic policy",
    );
}

/// Standard input is `<stdin>` in the summary, the solution file and errors.
#[test]
fn standard_input_is_named_stdin_everywhere() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let rows = "state,action,next_state,probability,reward\n0,0,1,1,1\n1,0,0,1,0\n";
    let output = dir.path().join("out.json");
    let feed = |args: &[&str]| {
        let mut child = decide()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rows.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = feed(&[
        "solve",
        "-",
        "--discount",
        "0.9",
        "--output",
        path_str(&output),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("model        <stdin> (2 states"),
        "{stdout}"
    );
    assert_eq!(read_json(&output)["model"]["path"], "<stdin>");
    // A failure of the solve itself (no policy ever terminates under total reward).
    let out = feed(&["solve", "-", "--criterion", "total"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: <stdin>: "), "{stderr}");
    let out = feed(&["info", "-"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("model                 <stdin>\n"),
        "{out:?}"
    );
}

/// `decide schedule DIR` blamed the folder's missing job count, `schedule -` the same.
#[test]
fn schedule_names_folders_and_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    assert_refused(
        &run(&["schedule", path_str(dir.path())]),
        2,
        "is a directory, not an instance file",
    );
    assert_refused(
        &run(&["schedule", "-"]),
        2,
        "standard input (-) is not supported",
    );
}

/// `decide solve … | head -1`: a reader that goes away is not an error ("writing the
/// summary … Broken pipe", exit 2); the run keeps its own exit code.
#[test]
fn a_closed_standard_output_ends_quietly() {
    let model = testdata("mdp/frozenlake8x8_slippery.transitions.csv");
    let dir = tempfile::tempdir().unwrap();
    let jobs = testdata("sched/examples.json");
    let generated = dir.path().join("g.json");
    for args in [
        vec!["solve", path_str(&model)],
        vec!["info", path_str(&model)],
        vec!["schedule", path_str(&jobs)],
        vec!["generate", "forest", "--states", "3", path_str(&generated)],
    ] {
        let mut child = decide()
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before the child writes: it reads its input first.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
    }
}

/// No output may name a file the command reads: the model, its sidecar, a family model, the
/// policy, the input of `convert`. Each is refused (exit 2) and left byte for byte as it was.
#[test]
fn outputs_never_overwrite_the_files_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/robust");
    for name in ["bridge.transitions.csv", "bridge.meta.json"] {
        std::fs::copy(shipped.join(name), d.join(name)).unwrap();
    }
    let model = d.join("bridge.transitions.csv");
    let sidecar = d.join("bridge.meta.json");
    let policy = d.join("policy.csv");
    std::fs::write(&policy, "state,action\n0,0\n").unwrap();
    let before: Vec<Vec<u8>> = [&model, &sidecar, &policy]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    let cases: Vec<Vec<&str>> = vec![
        vec!["solve", path_str(&model), "--output", path_str(&model)],
        vec![
            "solve",
            path_str(&model),
            "--policy-csv",
            path_str(&sidecar),
        ],
        vec![
            "solve",
            path_str(&model),
            "--ambiguity",
            "interval",
            "--worst-case",
            path_str(&sidecar),
        ],
        vec![
            "solve",
            path_str(&model),
            "--ambiguity",
            "finite",
            "--family",
            path_str(&model),
            "--output",
            path_str(&model),
        ],
        vec![
            "eval",
            path_str(&model),
            "--policy",
            path_str(&policy),
            "--output",
            path_str(&policy),
        ],
        vec!["convert", path_str(&model), path_str(&model)],
    ];
    for args in &cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("which this command reads"),
            "{args:?}: {stderr}"
        );
    }
    let after: Vec<Vec<u8>> = [&model, &sidecar, &policy]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(before, after);
    // A file of the same name in another folder is not the model.
    let other = d.join("out");
    std::fs::create_dir(&other).unwrap();
    let elsewhere = other.join("bridge.transitions.csv");
    let out = run(&[
        "solve",
        path_str(&model),
        "--output",
        path_str(&elsewhere),
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Nature's model is JSON: a .decide or .csv name for it is refused before solving.
    for name in ["w.decide", "w.csv"] {
        let target = d.join(name);
        let out = run(&[
            "solve",
            path_str(&model),
            "--ambiguity",
            "interval",
            "--worst-case",
            path_str(&target),
        ]);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(".json name"));
        assert!(!target.exists());
    }
}
