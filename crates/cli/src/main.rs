//! The `decide` command line. The only crate that uses `anyhow`; exit codes are decided here
//! and nowhere else: 0 success, 1 invalid model, 2 usage error (including files that cannot
//! be opened or written), 3 not converged within the limits (the best result is still
//! written, marked with its status).

mod generate;
mod policy_commands;
mod progress;
mod robust;
mod schedule;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use decide_core::{Criterion, Interrupt, Limits, Objective, Sense, Solution, StateId};
use decide_io::{LoadedModel, ReadOptions, solution::SolutionContext};
use decide_solve::{Algorithm, Problem};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "decide",
    version,
    about = "Certified optimal policies for Markov decision processes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write a reproducible benchmark model (random, gridworld, forest) as .csv, .json or .decide.
    Generate(generate::GenerateArgs),
    /// Solve a model: optimal policy, values, and a certificate of how good they are.
    Solve(SolveArgs),
    /// The exact value of a given policy (deterministic or randomised), under any criterion.
    Eval(policy_commands::EvalArgs),
    /// Simulate a policy: mean return, standard error and a 95% confidence interval.
    Simulate(policy_commands::SimulateArgs),
    /// Sizes, validation results, merged duplicates and memory of a model (.csv, .json, .mdp,
    /// .pomdp or the binary .decide).
    Info(ModelArgs),
    /// Convert a model between formats, by extension: reads .csv, .json, .mdp, .pomdp and
    /// .decide; writes .json or .decide (decide's compact binary format).
    Convert {
        /// The model to read (.csv, .json, .mdp, .pomdp, .decide; - for standard input).
        input: PathBuf,
        /// Where to write it: .json, or .decide (binary; one stage, no interval bounds).
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
    },
    /// Sequence jobs on one machine to minimise total (weighted) tardiness.
    Schedule(schedule::ScheduleArgs),
}

#[derive(Args, Debug)]
struct ReadArgs {
    /// Largest allowed |Σp − 1| per (state, action) [default: 1e-9; Cassandra files 1e-5].
    #[arg(long, value_name = "T", allow_hyphen_values = true)]
    probability_tolerance: Option<f64>,
}

#[derive(Args, Debug)]
struct ModelArgs {
    /// The model file (.csv with optional NAME.meta.json beside it, .json, .mdp, .pomdp, the
    /// binary .decide; - reads standard input).
    model: PathBuf,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Args, Debug)]
struct SolveArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// auto, vi (value iteration), gs (Gauss–Seidel), pi (policy iteration), mpi (modified
    /// PI), lp (primal linear program, HiGHS), lp-dual (dual LP over occupancy measures).
    #[arg(long, default_value = "auto", value_parser = parse_algorithm)]
    algorithm: Algorithm,
    #[command(flatten)]
    objective: ObjectiveArgs,
    /// Stop when the certified policy gap is at most this.
    #[arg(
        long,
        default_value_t = 1e-6,
        value_name = "E",
        allow_hyphen_values = true
    )]
    tolerance: f64,
    /// Stop after this many iterations (default: no limit; the certificate decides).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    max_iterations: Option<u64>,
    /// Stop after this many seconds with the best result so far (a huge value: no limit).
    #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
    time_limit: Option<f64>,
    /// Worker threads (0 = all cores; at most 1024).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = parse_threads, allow_negative_numbers = true)]
    threads: usize,
    /// Write values, policy, bounds and report as JSON.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Write the policy as CSV: state,action (and action_name when the model names its
    /// actions); state,action,probability for an s-rectangular robust solve.
    #[arg(long, value_name = "FILE")]
    policy_csv: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// How probabilities are held in memory: f64 (exact), or f32 — 4 bytes less per
    /// transition, for models that would not fit otherwise (.decide models, discounted
    /// criterion). The certificate still uses the exact f64 probabilities, read again from
    /// the file.
    #[arg(long, default_value = "f64", value_parser = ["f64", "f32"], value_name = "PRECISION")]
    probabilities: String,
    #[command(flatten)]
    robust: robust::RobustArgs,
}

/// How rewards over time are combined: shared by `solve`, `eval` and `simulate`.
#[derive(Args, Debug)]
struct ObjectiveArgs {
    /// discounted (default when the discount is below 1), total (until a terminal state;
    /// discount 1), finite (--horizon T decisions), average (reward per step).
    #[arg(long, value_parser = ["discounted", "total", "finite", "average"])]
    criterion: Option<String>,
    /// Number of decisions, for --criterion finite.
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    horizon: Option<u32>,
    /// Discount factor (in [0, 1) for discounted, [0, 1] for finite); overrides the model's.
    #[arg(long, value_name = "G", allow_hyphen_values = true)]
    discount: Option<f64>,
    /// maximize (rewards) or minimize (costs); overrides the model's.
    #[arg(long, value_parser = parse_sense)]
    sense: Option<Sense>,
}

impl ObjectiveArgs {
    /// The objective from the flags, falling back on what the model file says.
    fn resolve(&self, model: &LoadedModel, path: &Path) -> Result<Objective, Failure> {
        let sense = self.sense.or(model.sense).unwrap_or_default();
        let discount = self.discount.or(model.discount);
        let name = decide_io::display_name(path);
        let source = if self.discount.is_some() {
            "--discount"
        } else {
            "the model's discount"
        };
        // The readers accept a file's discount in [0, 1]; what remains is a discount that does
        // not suit the criterion chosen (or a bad --discount): a usage error, not a bad model.
        let invalid = |e: decide_core::ModelError| {
            Failure::Usage(anyhow::anyhow!("{name}: {e} (from {source})"))
        };
        if self.horizon.is_some() && self.criterion.as_deref().is_some_and(|c| c != "finite") {
            return Err(Failure::usage(
                "--horizon applies to --criterion finite only",
            ));
        }
        let criterion = match (&self.criterion, self.horizon) {
            (Some(c), _) => c.as_str(),
            (None, Some(_)) => "finite",
            (None, None) if model.is_stage_dependent() => "finite",
            (None, None) => "discounted",
        };
        // A model given stage by stage sets the horizon: one decision per stage.
        let stages = model.later_stages.len() + 1;
        if model.is_stage_dependent() {
            if criterion != "finite" {
                return Err(Failure::usage(format!(
                    "{name}: the model is stage-dependent ({stages} stages): only --criterion finite applies, not --criterion {criterion}"
                )));
            }
            if let Some(horizon) = self.horizon.filter(|&h| h as usize != stages) {
                return Err(Failure::usage(format!(
                    "{name}: the model has {stages} stages, so its horizon is {stages} decisions, not --horizon {horizon}"
                )));
            }
        }
        match criterion {
            "total" | "average" if self.discount.is_some_and(|d| d != 1.0) => Err(Failure::usage(
                format!("--criterion {criterion} is undiscounted: drop --discount"),
            )),
            "total" => Ok(Objective::total(sense)),
            "average" => Ok(Objective::average(sense)),
            "finite" => {
                let staged_horizon = u32::try_from(stages)
                    .ok()
                    .filter(|_| model.is_stage_dependent());
                let horizon = self.horizon.or(staged_horizon).ok_or_else(|| {
                    Failure::usage("--criterion finite needs --horizon T (the number of decisions)")
                })?;
                Objective::finite_horizon(sense, horizon, discount.unwrap_or(1.0)).map_err(invalid)
            }
            _ => match discount {
                Some(d) => Objective::discounted(sense, d).map_err(invalid),
                None => Err(Failure::usage(format!(
                    "{name}: the model gives no discount; pass --discount G with 0 <= G < 1, or choose --criterion total, finite or average"
                ))),
            },
        }
    }
}

fn parse_threads(s: &str) -> Result<usize, String> {
    let threads: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of threads"))?;
    if threads > decide_solve::runner::MAX_THREADS {
        return Err(format!(
            "{threads} threads: at most {} (0 = all cores)",
            decide_solve::runner::MAX_THREADS
        ));
    }
    Ok(threads)
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}

fn parse_sense(s: &str) -> Result<Sense, String> {
    s.parse()
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
enum Failure {
    /// Exit 1: the model is invalid.
    Model(anyhow::Error),
    /// Exit 2: bad arguments, unreadable input, unwritable output.
    Usage(anyhow::Error),
}

/// The `.decide` model file a solve maps (`ReadOptions::map_file`), held open with what it
/// looked like before it was read. A change written into it in place (not a new file renamed
/// over the path, which leaves this one intact) shows through the map into the solve: the
/// solve checks this before writing any result, and when the solve failed or panicked.
struct MappedModelStamp {
    file: std::fs::File,
    metadata: std::fs::Metadata,
}

impl MappedModelStamp {
    /// `None` for anything but a regular `.decide` file (those are read, not mapped).
    fn take(path: &std::path::Path) -> Option<Self> {
        if decide_io::Format::from_path(path) != Some(decide_io::Format::Binary) {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        let metadata = file.metadata().ok()?;
        metadata
            .is_file()
            .then_some(MappedModelStamp { file, metadata })
    }

    /// Whether this file (wherever it has been renamed or unlinked since) changed size or
    /// modification time since [`Self::take`].
    fn changed(&self) -> bool {
        self.file.metadata().map_or(true, |now| {
            now.len() != self.metadata.len() || now.modified().ok() != self.metadata.modified().ok()
        })
    }

    fn error(path: &std::path::Path) -> Failure {
        Failure::usage(format!(
            "{}: the model file was written to while decide was solving it, so the result may mix two models and is not written; replace a model by renaming a new file over it (as `decide convert` and `decide generate` do), not by writing into it (`cp` over it)",
            path.display()
        ))
    }
}

/// The message of a panic caught by [`catch_panic_if`], printed only if it is re-raised.
static CAUGHT_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Runs `f`; when `catch`, a panic in it is caught (its message kept, not printed) so that the
/// caller can first look for an outside cause — a mapped model file written to meanwhile —
/// and otherwise re-raise it with [`resume_panic`].
fn catch_panic_if<T>(
    catch: bool,
    f: impl FnOnce() -> T,
) -> Result<T, Box<dyn std::any::Any + Send>> {
    if !catch {
        return Ok(f());
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut caught) = CAUGHT_PANIC.lock() {
            caught.get_or_insert_with(|| info.to_string());
        }
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    result
}

/// Prints the message of the panic [`catch_panic_if`] caught and re-raises it.
fn resume_panic(panic: Box<dyn std::any::Any + Send>) -> ! {
    if let Some(message) = CAUGHT_PANIC.lock().ok().and_then(|mut m| m.take()) {
        eprintln!("{message}");
    }
    std::panic::resume_unwind(panic)
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Failure::Usage(anyhow::anyhow!(message.into()))
    }
}

impl From<decide_io::ReadError> for Failure {
    fn from(e: decide_io::ReadError) -> Self {
        if e.is_usage() {
            Failure::Usage(e.into())
        } else {
            Failure::Model(e.into())
        }
    }
}

impl From<decide_io::WriteError> for Failure {
    fn from(e: decide_io::WriteError) -> Self {
        Failure::Usage(e.into())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Generate(args) => generate::run(&args).map(|()| true),
        Command::Solve(args) => solve(&args),
        Command::Eval(args) => policy_commands::eval(&args),
        Command::Simulate(args) => policy_commands::simulate(&args),
        Command::Info(args) => info(&args).map(|()| true),
        Command::Schedule(args) => schedule::run(&args),
        Command::Convert {
            input,
            output,
            read,
        } => convert(&input, &output, &read).map(|()| true),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(3),
        Err(failure) => {
            let (code, error) = match failure {
                Failure::Model(e) => (1, e),
                Failure::Usage(e) => (2, e),
            };
            // One line per cause, no backtrace: users read this, not developers.
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "error: {error}");
            for cause in error.chain().skip(1) {
                let _ = write!(stderr, ": {cause}");
            }
            let _ = writeln!(stderr);
            ExitCode::from(code)
        }
    }
}

/// The result of writing to standard output: a reader that went away (`decide solve … |
/// head -1`) is not an error, the run keeps its own exit code.
fn stdout_result(result: std::io::Result<()>) -> Result<(), Failure> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other
            .context("writing to standard output")
            .map_err(Failure::Usage),
    }
}

/// `--time-limit SECONDS` as a duration: refused when negative or not a number; a limit too
/// large for a `Duration` (centuries) is no limit.
fn time_limit(seconds: Option<f64>) -> Result<Option<Duration>, Failure> {
    match seconds {
        None => Ok(None),
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Duration::try_from_secs_f64(t).ok()),
        Some(t) if t == f64::INFINITY => Ok(None),
        Some(t) => Err(Failure::usage(format!(
            "--time-limit must be a non-negative number of seconds, got {t}"
        ))),
    }
}

/// The file a path names: its links resolved, or, for a file not there yet, its folder's
/// resolved path and its name.
fn file_identity(path: &Path) -> Option<PathBuf> {
    if let Ok(resolved) = std::fs::canonicalize(path) {
        return Some(resolved);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(path.file_name()?))
}

/// Refuses an output that names one of the files the command reads (the model, its CSV
/// sidecar, a family model, the policy): writing it would destroy what the user gave us.
/// `outputs` and `inputs` are `(flag or role, path)`.
fn check_outputs_spare_inputs(
    outputs: &[(&str, Option<&Path>)],
    inputs: &[(&str, &Path)],
) -> Result<(), Failure> {
    let mut read: Vec<(&str, PathBuf)> = Vec::new();
    for &(role, path) in inputs {
        if path == Path::new("-") {
            continue;
        }
        if let Some(sidecar) = decide_io::csv_model::sidecar_path(path) {
            read.push(("its sidecar", sidecar));
        }
        read.push((role, path.to_path_buf()));
    }
    for &(flag, output) in outputs {
        let Some(output) = output else { continue };
        if std::fs::metadata(output).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            continue; // a device such as /dev/null
        }
        let out_id = file_identity(output);
        for (role, input) in &read {
            if output == input.as_path() || (out_id.is_some() && out_id == file_identity(input)) {
                return Err(Failure::usage(format!(
                    "{}: {flag} names {role} ({}), which this command reads; writing it would \
                     destroy it: choose another file",
                    output.display(),
                    input.display()
                )));
            }
        }
    }
    Ok(())
}

/// Refuses two outputs that name the same file (one would overwrite the other): `outputs`
/// are `(flag, path)`. Devices such as `/dev/null` may be named twice.
fn check_distinct_outputs(outputs: &[(&str, Option<&Path>)]) -> Result<(), Failure> {
    let given: Vec<(&str, &Path)> = outputs
        .iter()
        .filter_map(|&(flag, path)| path.map(|p| (flag, p)))
        .collect();
    for (i, &(flag_a, a)) in given.iter().enumerate() {
        for &(flag_b, b) in &given[i + 1..] {
            let same = a == b || file_identity(a).is_some_and(|x| file_identity(b) == Some(x));
            let special = std::fs::metadata(a).is_ok_and(|m| !m.is_file() && !m.is_dir());
            if same && !special {
                return Err(Failure::usage(format!(
                    "{}: the same file for {flag_a} and {flag_b}; give each its own",
                    a.display()
                )));
            }
        }
    }
    Ok(())
}

/// Refuses a finite-horizon solve whose per-stage values and decisions (8 bytes each per
/// state and stage, plus the lists) cannot fit in memory, before any is allocated.
fn check_stage_memory(objective: &Objective, n_states: usize) -> Result<(), Failure> {
    let Criterion::FiniteHorizon { horizon, .. } = objective.criterion else {
        return Ok(());
    };
    let per_stage = (n_states as u64).saturating_mul(16).saturating_add(48);
    let needed = u64::from(horizon).saturating_mul(per_stage);
    decide_io::check_memory(needed, || {
        format!("values and decisions for {horizon} stages of {n_states} states")
    })
    .map_err(|shortfall| {
        Failure::usage(format!(
            "--criterion finite with horizon {horizon} {shortfall}; choose a shorter horizon"
        ))
    })
}

fn read_options(args: &ReadArgs) -> Result<ReadOptions, Failure> {
    if let Some(t) = args.probability_tolerance {
        if !(t.is_finite() && t >= 0.0) {
            return Err(Failure::usage(format!(
                "--probability-tolerance must be a non-negative number, got {t}"
            )));
        }
    }
    Ok(ReadOptions {
        probability_tolerance: args.probability_tolerance,
        f32_probabilities: false,
        map_file: false,
    })
}

fn load(args: &ModelArgs) -> Result<LoadedModel, Failure> {
    Ok(decide_io::read_model(
        &args.model,
        &read_options(&args.read)?,
    )?)
}

/// Returns whether the run converged (exit 0) or not (exit 3).
fn solve(args: &SolveArgs) -> Result<bool, Failure> {
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        return Err(Failure::usage(format!(
            "--tolerance must be a non-negative number, got {}",
            args.tolerance
        )));
    }
    let limits = Limits {
        tolerance: args.tolerance,
        max_iterations: args.max_iterations,
        time_limit: time_limit(args.time_limit)?,
        threads: args.threads,
    };
    args.robust.check_unused()?;
    let outputs = [
        ("--output", args.output.as_deref()),
        ("--policy-csv", args.policy_csv.as_deref()),
        ("--worst-case", args.robust.worst_case.as_deref()),
    ];
    check_distinct_outputs(&outputs)?;
    let mut inputs = vec![("the model", args.model.model.as_path())];
    inputs.extend(
        args.robust
            .family
            .iter()
            .map(|f| ("a --family model", f.as_path())),
    );
    check_outputs_spare_inputs(&outputs, &inputs)?;
    let rounded = args.probabilities == "f32";
    if args.robust.ambiguity.is_some() {
        if rounded {
            return Err(Failure::usage(
                "--probabilities f32 does not apply to robust solves (--ambiguity)",
            ));
        }
        return robust::solve(args, &limits);
    }
    // A regular .decide file is mapped, not copied, and watched (see MappedModelStamp). The
    // reader opens the path again: a file renamed over it between the two opens would go
    // unwatched, a window of microseconds.
    let stamp = MappedModelStamp::take(&args.model.model);
    let options = ReadOptions {
        f32_probabilities: rounded,
        map_file: stamp.is_some(),
        ..read_options(&args.model.read)?
    };
    // With f32 probabilities, the exact ones are read again from the same open file.
    let (model, mut exact_outcomes) = if rounded {
        let (model, exact) =
            decide_io::read_model_with_exact_outcomes(&args.model.model, &options)?;
        (model, Some(exact))
    } else {
        (decide_io::read_model(&args.model.model, &options)?, None)
    };
    let path = &args.model.model;
    let objective = args.objective.resolve(&model, path)?;
    if rounded && !matches!(objective.criterion, Criterion::Discounted { .. }) {
        return Err(Failure::usage(format!(
            "--probabilities f32 takes the discounted criterion only, not {}",
            objective.criterion.as_str()
        )));
    }
    check_algorithm(args.algorithm, &objective)?;
    check_stage_memory(&objective, model.mdp.n_states())?;
    if let Criterion::Discounted { discount } = objective.criterion {
        // Sums allowed off 1 by a loose --probability-tolerance can make γ·Σp reach 1: then
        // the Bellman operator need not contract, value iteration need not converge and
        // policy iteration can cycle for ever.
        let deviation = model.summary.max_probability_sum_deviation;
        if discount * (1.0 + deviation) >= 1.0 {
            return Err(Failure::Model(anyhow::anyhow!(
                "{}: probability sums are off 1 by up to {deviation:.3e}, so with discount {discount} a row's discounted sum can reach {:.6}: the discounted criterion needs it below 1 (fix the probabilities, or lower the discount)",
                decide_io::display_name(path),
                discount * (1.0 + deviation)
            )));
        }
    }
    let (sense, discount) = (objective.sense, objective.discount());
    let problem = Problem::new(&model.mdp, objective);
    let mut observer = progress::Progress::new(!args.quiet && std::io::stderr().is_terminal());
    let interrupt = install_interrupt_handler();
    if matches!(objective.criterion, Criterion::FiniteHorizon { .. })
        && model.is_stage_dependent()
        && args.algorithm != Algorithm::Auto
    {
        return Err(Failure::usage(format!(
            "--algorithm {}: a stage-dependent model is solved by backward induction (drop --algorithm)",
            args.algorithm.as_str()
        )));
    }
    let solved = catch_panic_if(stamp.is_some(), || match objective.criterion {
        Criterion::FiniteHorizon { horizon, discount } if model.is_stage_dependent() => {
            decide_solve::finite::backward_induction(
                &model.stages(),
                horizon,
                discount,
                sense,
                None,
                &mut observer,
            )
        }
        _ if let Some(exact) = exact_outcomes.as_mut() => {
            decide_solve::mixed_precision::solve_mixed_precision(
                &problem,
                args.algorithm,
                &limits,
                &mut observer,
                &interrupt,
                exact,
            )
        }
        _ => decide_solve::solve_with(&problem, args.algorithm, &limits, &mut observer, &interrupt),
    });
    drop(observer);
    // Whatever the solve gave — a result, an error, a panic — a model written in place during
    // it explains it, and nothing from it is trusted.
    if stamp.as_ref().is_some_and(MappedModelStamp::changed) {
        return Err(MappedModelStamp::error(path));
    }
    let solution = solved
        .unwrap_or_else(|panic| resume_panic(panic))
        .map_err(|e| Failure::Model(anyhow::anyhow!("{}: {e}", decide_io::display_name(path))))?;

    let path_text = decide_io::display_name(path).into_owned();
    if let Some(output) = &args.output {
        let context = SolutionContext {
            model_path: &path_text,
            discount,
            sense,
            n_states: model.mdp.n_states(),
            state_names: model.mdp.state_names(),
            action_names: model.mdp.action_names(),
        };
        if solution.report.status == decide_core::Status::Multichain {
            // No single gain describes a multichain result: the file gives each state's
            // gain and each closed class with its gain instead of a misleading number.
            let (classes, gains) =
                decide_solve::average::policy_gains(&model.mdp, &solution.policy);
            decide_io::solution::write_solution_json_amended(
                output,
                &solution,
                &context,
                |fields| {
                    fields.insert("gain".into(), serde_json::Value::Null);
                    fields.insert("gain_by_state".into(), serde_json::json!(gains));
                    fields.insert(
                        "closed_classes".into(),
                        classes
                            .iter()
                            .map(|(states, gain)| serde_json::json!({"states": states, "gain": gain}))
                            .collect(),
                    );
                },
            )?;
        } else {
            decide_io::solution::write_solution_json(output, &solution, &context)?;
        }
    }
    if let Some(policy_csv) = &args.policy_csv {
        decide_io::solution::write_policy_csv(policy_csv, &solution, model.mdp.action_names())?;
    }
    if !args.quiet {
        stdout_result(print_summary(&model, path, &objective, &solution))?;
    }
    Ok(solution.report.is_converged())
}

/// Refuses an algorithm that does not solve the criterion: a usage error (exit 2), with the
/// algorithms the criterion takes (as the README's criteria table lists them).
fn check_algorithm(algorithm: Algorithm, objective: &Objective) -> Result<(), Failure> {
    if algorithm.supports(&objective.criterion) {
        return Ok(());
    }
    let criterion = objective.criterion.as_str();
    Err(Failure::usage(format!(
        "--algorithm {algorithm} does not solve the {criterion} criterion; --criterion {criterion} takes --algorithm {}",
        Algorithm::supported_for(criterion)
    )))
}

/// Ctrl-C or SIGTERM raises the interrupt: the solve stops after its current iteration and
/// writes its best result with status `interrupted` (exit 3). A second signal exits at once.
fn install_interrupt_handler() -> Interrupt {
    let interrupt = Interrupt::new();
    let flag = interrupt.clone();
    // Failing to install (another handler exists) only loses graceful interruption.
    let _ = ctrlc::set_handler(move || {
        if flag.is_raised() {
            std::process::exit(130);
        }
        flag.raise();
    });
    interrupt
}

fn print_summary(
    model: &LoadedModel,
    path: &Path,
    objective: &Objective,
    solution: &Solution,
) -> std::io::Result<()> {
    let mdp = &model.mdp;
    let report = &solution.report;
    let cert = &report.certificate;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "model        {} ({} states, {} actions, {} transitions{})",
        decide_io::display_name(path),
        mdp.n_states(),
        mdp.n_actions(),
        model
            .stages()
            .iter()
            .map(|m| m.n_transitions())
            .sum::<usize>(),
        if model.is_stage_dependent() {
            format!(", {} stages", model.later_stages.len() + 1)
        } else {
            String::new()
        }
    )?;
    match objective.criterion {
        Criterion::Discounted { discount } => writeln!(
            out,
            "objective    {}, discounted, discount {discount}",
            objective.sense
        )?,
        Criterion::Total => writeln!(
            out,
            "objective    {}, total reward until termination",
            objective.sense
        )?,
        Criterion::FiniteHorizon { horizon, discount } => writeln!(
            out,
            "objective    {}, finite horizon of {horizon} decisions, discount {discount}",
            objective.sense
        )?,
        Criterion::Average => writeln!(
            out,
            "objective    {}, average reward per step",
            objective.sense
        )?,
    }
    writeln!(
        out,
        "algorithm    {}: {} after {} iterations ({} sweeps), {:.3} s",
        report.algorithm,
        report.status,
        report.iterations,
        report.sweeps,
        report.elapsed.as_secs_f64()
    )?;
    if solution.gain.is_none() {
        writeln!(
            out,
            "certificate  V* within {:.2e} of these values in every state; the policy is within {:.2e} of optimal (tolerance {:.1e}); Bellman residual {:.2e}",
            cert.value_error, cert.policy_gap, report.tolerance, cert.residual
        )?;
    }
    // Multichain: no single gain; each state's gain under the policy instead of a bias.
    let multichain = policy_commands::multichain_gains(mdp, solution);
    match (&solution.gain, &multichain) {
        (Some(_), Some((lines, _))) => {
            for line in lines {
                writeln!(out, "{line}")?;
            }
        }
        (Some(gain), None) => writeln!(
            out,
            "gain         {:.9} per step, certified in [{:.9}, {:.9}]; values below are the bias relative to s0",
            gain.value, gain.lower, gain.upper
        )?,
        (None, _) => {}
    }
    for note in &report.notes {
        writeln!(out, "note         {note}")?;
    }
    let shown = mdp.n_states().min(8);
    for s in 0..shown {
        let name = mdp
            .state_names()
            .map(|n| format!(" ({})", n[s]))
            .unwrap_or_default();
        let action = match solution.policy[s] {
            None => "terminal".to_string(),
            Some(a) => match mdp.action_names() {
                Some(names) => format!("{a} ({})", names[a.index()]),
                None => a.to_string(),
            },
        };
        match &multichain {
            Some((_, gains)) => writeln!(
                out,
                "  {}{name}: gain {:.9} per step, action {action}",
                StateId(s as u32),
                gains[s],
            )?,
            None => writeln!(
                out,
                "  {}{name}: value {:.9}, action {action}",
                StateId(s as u32),
                solution.values[s],
            )?,
        }
    }
    if mdp.n_states() > shown {
        writeln!(
            out,
            "  ... {} more states (use --output FILE for all)",
            mdp.n_states() - shown
        )?;
    }
    if multichain.is_some() {
        writeln!(
            out,
            "not converged (multichain): the gain depends on the starting state; the policy above is the last one tried"
        )?;
    } else if !report.is_converged() {
        writeln!(
            out,
            "not converged ({}): the values and policy above are the best found, with the certificate shown",
            report.status
        )?;
    }
    Ok(())
}

fn info(args: &ModelArgs) -> Result<(), Failure> {
    let model = load(args)?;
    let mdp = &model.mdp;
    let s = &model.summary;
    let n = mdp.n_states();
    let (mut fewest, mut most, mut terminal) = (usize::MAX, 0usize, 0usize);
    for st in 0..n {
        let id = StateId(st as u32);
        if mdp.is_terminal(id) {
            terminal += 1;
            continue;
        }
        let count = mdp.pairs(id).len();
        fewest = fewest.min(count);
        most = most.max(count);
    }
    if fewest == usize::MAX {
        fewest = 0;
    }
    let mut out = std::io::stdout().lock();
    let lines = [
        format!(
            "model                 {}",
            decide_io::display_name(&args.model)
        ),
        format!(
            "format                {}",
            format!("{:?}", model.format).to_lowercase()
        ),
        format!("states                {n} ({terminal} terminal)"),
        if model.is_stage_dependent() {
            format!(
                "stages                {} (stage-dependent: one model per decision; values below are stage 0's)",
                model.later_stages.len() + 1
            )
        } else {
            "stages                1 (stationary)".to_string()
        },
        format!(
            "actions               {} ids; {fewest}..{most} available per state",
            mdp.n_actions()
        ),
        format!("pairs                 {}", mdp.n_pairs()),
        format!(
            "transitions           {} stored (largest pair: {} outcomes)",
            mdp.n_transitions(),
            mdp.max_outcomes()
        ),
        format!("rows read             {}", s.rows),
        format!(
            "merged duplicates     {} rows into {} keys ({} with different rewards, merged by probability weight)",
            s.merged_duplicates, s.duplicate_keys, s.mixed_reward_keys
        ),
        format!(
            "zero-probability rows {} outcomes dropped",
            s.zero_probability_outcomes
        ),
        format!(
            "probability sums      max |sum - 1| = {:.3e}",
            s.max_probability_sum_deviation
        ),
        format!(
            "discount              {}",
            model.discount.map_or("not given".into(), |d| d.to_string())
        ),
        format!(
            "sense                 {}",
            model
                .sense
                .map_or("not given (maximize)".into(), |x| x.to_string())
        ),
        format!(
            "memory                {:.1} MiB",
            mdp.memory_bytes() as f64 / (1024.0 * 1024.0)
        ),
    ];
    stdout_result(lines.iter().try_for_each(|line| writeln!(out, "{line}")))
}

fn convert(input: &Path, output: &Path, read: &ReadArgs) -> Result<(), Failure> {
    check_outputs_spare_inputs(&[("OUT", Some(output))], &[("the input model", input)])?;
    let model = decide_io::read_model(input, &read_options(read)?)?;
    match decide_io::Format::from_path(output) {
        Some(decide_io::Format::Json) => Ok(decide_io::json_model::write(output, &model)?),
        Some(decide_io::Format::Binary) if model.is_stage_dependent() => {
            Err(Failure::usage(format!(
                "{}: the .decide format holds one stage; write a stage-dependent model as .json",
                output.display()
            )))
        }
        // Nothing a user gave is dropped silently: the binary format has no place for bounds.
        Some(decide_io::Format::Binary) if model.bounds.is_some() => Err(Failure::usage(format!(
            "{}: the .decide format has no interval bounds (probability_low, probability_high); write the model as .json to keep them",
            output.display()
        ))),
        Some(decide_io::Format::Binary) => Ok(decide_io::binary::write(output, &model)?),
        _ => Err(Failure::usage(format!(
            "{}: can only write .json and .decide models",
            output.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::MappedModelStamp;
    use std::time::{Duration, SystemTime};

    #[test]
    fn a_model_written_in_place_is_caught_and_one_renamed_over_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.decide");
        std::fs::write(&path, b"first model bytes").unwrap();
        let stamp = MappedModelStamp::take(&path).expect("a regular .decide file");
        assert!(!stamp.changed(), "unchanged");

        // A new file renamed over the path leaves the watched one (the mapped one) intact.
        let new = dir.path().join("new.decide");
        std::fs::write(&new, b"a longer, different model").unwrap();
        std::fs::rename(&new, &path).unwrap();
        assert!(!stamp.changed(), "replaced by rename");

        // Same length, written in place (as `cp` or `dd conv=notrunc` would), then renamed
        // away: still caught, the watch follows the open file.
        let stamp = MappedModelStamp::take(&path).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::io::Write::write_all(&mut &file, b"other model bytes, same length!!").unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        drop(file);
        std::fs::rename(&path, dir.path().join("moved.decide")).unwrap();
        assert!(stamp.changed(), "written in place, then moved");

        assert!(MappedModelStamp::take(&dir.path().join("m.csv")).is_none());
    }
}
