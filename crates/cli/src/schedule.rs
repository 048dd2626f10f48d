//! `decide schedule`: single-machine total (weighted) tardiness, by a dispatching rule,
//! iterated dynasearch, or an exact method that proves optimality or reports a lower bound.

use crate::Failure;
use decide_sched::read::{ReadError, ReadInstance};
use decide_sched::{Method, Objective, ScheduleSolution, SolveOptions, Status};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `decide schedule`.
#[derive(clap::Args, Debug)]
pub struct ScheduleArgs {
    /// Instances: an OR-Library weighted-tardiness file (wt40.txt: n processing times, n
    /// weights, n due dates per instance, instances one after another), or a JSON job list
    /// (.json): {"jobs": [{"p": 3, "d": 10, "w": 2}, ...]}, w defaulting to 1, or a list of them.
    pub file: PathBuf,
    /// Jobs per instance of an OR-Library file, which does not say [default: N of a wtN file
    /// name, as OR-Library names them].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub jobs: Option<usize>,
    /// tardiness (every weight taken as 1) or weighted-tardiness (the file's weights).
    #[arg(long, default_value = "weighted-tardiness", value_parser = parse_objective)]
    pub objective: Objective,
    /// edd, spt, mdd, atc, eddc, mddc, psk, augmented-mdd, augmented-mddc, heuristic (every
    /// rule, then iterated dynasearch), or exact (proves optimality, or gives a lower bound).
    #[arg(long, default_value = "exact", value_parser = parse_method)]
    pub method: Method,
    /// Seconds per instance for heuristic (default 1; spent in full unless the instance is
    /// proven optimal first) and exact (default: no limit). An exact run stopped by it returns
    /// its best schedule and lower bound, and decide exits with 3.
    /// heuristic uses all of it unless it reaches a proven optimum (cost 0, or the subset DP's
    /// optimum on instances of at most 16 jobs).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    pub time_limit: Option<f64>,
    /// Look-ahead parameter k of the ATC rule.
    #[arg(long, default_value_t = decide_sched::rules::DEFAULT_ATC_LOOKAHEAD, value_name = "K", allow_hyphen_values = true)]
    pub atc_lookahead: f64,
    /// Write a JSON array with one object per instance: sequence (0-based job numbers in
    /// processing order), objective, lower_bound, proven_optimal, seconds, method, status.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_objective(s: &str) -> Result<Objective, String> {
    s.parse()
}

fn parse_method(s: &str) -> Result<Method, String> {
    s.parse()
}

impl From<ReadError> for Failure {
    fn from(e: ReadError) -> Self {
        if e.is_io() {
            Failure::Usage(e.into())
        } else {
            Failure::Model(e.into())
        }
    }
}

/// The N of an OR-Library file name such as `wt40.txt` or `wt100`.
fn jobs_from_file_name(path: &Path) -> Option<usize> {
    let stem = path.file_stem()?.to_str()?;
    let digits = stem.strip_prefix("wt")?;
    digits.parse().ok().filter(|&n: &usize| n > 0)
}

/// Runs `decide schedule`. Returns whether every instance ended as its method intends
/// (exit 0), or an exact run was stopped by a limit before proving optimality (exit 3).
pub fn run(args: &ScheduleArgs) -> Result<bool, Failure> {
    if let Some(t) = args.time_limit {
        // A huge limit (or inf) is no limit; only NaN and negative ones are refused.
        if t.is_nan() || t < 0.0 {
            return Err(Failure::usage(format!(
                "--time-limit must be a non-negative number of seconds, got {t}"
            )));
        }
    }
    if !(args.atc_lookahead.is_finite() && args.atc_lookahead > 0.0) {
        return Err(Failure::usage(format!(
            "--atc-lookahead must be a positive number, got {}",
            args.atc_lookahead
        )));
    }
    if args.jobs == Some(0) {
        return Err(Failure::usage("--jobs must be at least 1"));
    }
    let path = &args.file;
    if path.as_os_str() == decide_io::STDIN_PATH {
        return Err(Failure::usage(
            "decide schedule reads instances from a file; standard input (-) is not supported: save the instances to a .json or OR-Library file",
        ));
    }
    if path.is_dir() {
        return Err(Failure::usage(format!(
            "{}: is a directory, not an instance file",
            path.display()
        )));
    }
    let jobs = match decide_sched::read::Format::from_path(path) {
        decide_sched::read::Format::Json => args.jobs,
        decide_sched::read::Format::OrLibrary => {
            match args.jobs.or_else(|| jobs_from_file_name(path)) {
                Some(n) => Some(n),
                None => {
                    return Err(Failure::usage(format!(
                        "{}: an OR-Library file does not say how many jobs an instance has; \
                     pass --jobs N",
                        path.display()
                    )));
                }
            }
        }
    };
    let instances = decide_sched::read::read(path, jobs)?;
    let options = SolveOptions {
        time_limit: args.time_limit,
        atc_lookahead: args.atc_lookahead,
        ..SolveOptions::default()
    };
    let mut out = std::io::stdout().lock();
    let mut records = Vec::with_capacity(instances.len());
    let mut all_finished = true;
    let mut proven = 0usize;
    let mut seconds = 0.0;
    // A reader of the summary that went away (`| head -1`) stops the summary, not the run.
    let mut stdout_gone = false;
    for (index, read) in instances.iter().enumerate() {
        let instance = read.instance.for_objective(args.objective);
        let solution = decide_sched::solve(&instance, args.method, &options);
        if matches!(solution.status, Status::TimeLimit | Status::MemoryLimit) {
            all_finished = false;
        }
        proven += usize::from(solution.proven_optimal);
        seconds += solution.seconds;
        if !args.quiet && !stdout_gone {
            match print_line(&mut out, index, read, &solution) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => stdout_gone = true,
                other => crate::stdout_result(other)?,
            }
        }
        records.push(record(index, read, &solution));
    }
    if !args.quiet && !stdout_gone && instances.len() > 1 {
        crate::stdout_result(writeln!(
            out,
            "{} instances, {} ({}): {proven} proven optimal, {:.3} s in all",
            instances.len(),
            args.method,
            args.objective,
            seconds
        ))?;
    }
    if let Some(output) = &args.output {
        let document = serde_json::Value::Array(records);
        decide_io::atomic::write_atomically(output, |w| {
            serde_json::to_writer_pretty(&mut *w, &document).map_err(std::io::Error::other)?;
            writeln!(w)
        })?;
    }
    Ok(all_finished)
}

fn print_line(
    out: &mut impl Write,
    index: usize,
    read: &ReadInstance,
    solution: &ScheduleSolution,
) -> std::io::Result<()> {
    let name = read
        .name
        .as_ref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    let proof = match solution.status {
        Status::Optimal => "optimal".to_string(),
        Status::Heuristic => format!("heuristic, lower bound {}", solution.lower_bound),
        Status::TimeLimit => format!(
            "stopped by the time limit, lower bound {}",
            solution.lower_bound
        ),
        Status::MemoryLimit => format!(
            "stopped by the memory limit, lower bound {}",
            solution.lower_bound
        ),
    };
    writeln!(
        out,
        "instance {}{name} ({} jobs): objective {} ({proof}), {} in {:.3} s",
        index + 1,
        read.instance.n_jobs(),
        solution.objective,
        solution.method,
        solution.seconds
    )
}

fn record(index: usize, read: &ReadInstance, solution: &ScheduleSolution) -> serde_json::Value {
    let mut object = serde_json::json!({
        "instance": index + 1,
        "jobs": read.instance.n_jobs(),
        "sequence": solution.sequence,
        "objective": solution.objective,
        "lower_bound": solution.lower_bound,
        "proven_optimal": solution.proven_optimal,
        "seconds": solution.seconds,
        "method": solution.method.as_str(),
        "status": solution.status.as_str(),
    });
    if let Some(name) = &read.name {
        object["name"] = serde_json::Value::String(name.clone());
    }
    object
}
