//! Robust solving and evaluation from the command line: `--ambiguity l1:K|kl:K|interval|
//! finite|static`, `--rectangularity sa|s`, `--family FILE...`, `--worst-case FILE`,
//! `--initial-state S` (shared by `decide solve` and `decide eval`).
//!
//! * `l1:K`, `kl:K`, `interval`, `finite`: the dynamic (rectangular) robust problem, solved by
//!   robust value or modified policy iteration with the usual certificate; `eval` gives a
//!   policy's robust value. `finite` takes its candidates from MODEL and `--family`.
//! * `static`: nature picks one whole model among MODEL and `--family` for the episode;
//!   `solve` runs IWOCS and prints the certified bracket at `--initial-state`, the policy and
//!   the worst-case models found, next to the sa-rectangular value of the same family.
//! * `--worst-case FILE` writes nature's answer as a JSON model: for `solve`, the model in the
//!   set against which the returned policy earns the robust value; for `eval`, the worst-case
//!   model found for the given policy.

use crate::{Failure, ModelArgs, load, read_options};
use clap::Args;
use decide_core::{
    ActionId, Criterion, Limits, Objective, Report, Sense, Solution, StateId, Status, TabularMdp,
};
use decide_io::LoadedModel;
use decide_io::solution::SolutionContext;
use decide_solve::robust::{
    Ambiguity, IntervalBounds, IwocsOptions, Rectangularity, RobustAlgorithm, RobustError,
    RobustProblem, StaticSet, check_family, evaluate_robust, iwocs, solve_robust,
    solve_robust_with,
};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `--ambiguity` argument.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AmbiguitySpec {
    /// `l1:K`.
    L1(f64),
    /// `kl:K`.
    Kl(f64),
    /// `interval`: bounds from the model file.
    Interval,
    /// `finite`: candidates from MODEL and `--family`, chosen per (state, action).
    Finite,
    /// `static`: one model of MODEL and `--family` for the whole episode (IWOCS).
    Static,
}

const EXPECTED: &str = "expected l1:K (0 <= K <= 2), kl:K (K >= 0), interval, finite or static";

/// Parses `--ambiguity`.
pub fn parse_ambiguity(text: &str) -> Result<AmbiguitySpec, String> {
    let lower = text.trim().to_ascii_lowercase();
    let radius = |r: &str, max: f64| -> Result<f64, String> {
        match r.trim().parse::<f64>() {
            Ok(k) if k.is_finite() && (0.0..=max).contains(&k) => Ok(k),
            _ => Err(format!("radius {r:?} is out of range: {EXPECTED}")),
        }
    };
    match lower.split_once(':') {
        Some(("l1", r)) => radius(r, 2.0).map(AmbiguitySpec::L1),
        Some(("kl", r)) => radius(r, f64::MAX).map(AmbiguitySpec::Kl),
        None if lower == "interval" => Ok(AmbiguitySpec::Interval),
        None if lower == "finite" => Ok(AmbiguitySpec::Finite),
        None if lower == "static" => Ok(AmbiguitySpec::Static),
        None if lower == "l1" || lower == "kl" => {
            Err(format!("{text:?} needs a radius, e.g. {lower}:0.1"))
        }
        _ => Err(format!("unknown ambiguity set {text:?}: {EXPECTED}")),
    }
}

fn parse_rectangularity(text: &str) -> Result<Rectangularity, String> {
    text.parse()
}

/// The robust flags of `solve` and `eval`.
#[derive(Args, Debug, Default)]
pub struct RobustArgs {
    /// Solve against an ambiguity set: l1:K (L1 ball of radius K over each pair's listed
    /// outcomes), kl:K (KL ball), interval (bounds from the model file), finite (candidates from
    /// MODEL and --family, per state and action), static (one model of MODEL and --family for
    /// the whole episode: IWOCS).
    #[arg(long, value_name = "SET", value_parser = parse_ambiguity)]
    pub ambiguity: Option<AmbiguitySpec>,
    /// sa: nature chooses per (state, action) (default); s: per state, with a shared L1 budget
    /// (l1 only, solve only: robust evaluation takes sa; the optimal policy may randomise,
    /// and is found by robust value iteration).
    #[arg(long, value_name = "sa|s", value_parser = parse_rectangularity)]
    pub rectangularity: Option<Rectangularity>,
    /// More models (same states and actions as MODEL) for --ambiguity finite or static.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub family: Vec<PathBuf>,
    /// Write nature's worst-case model as a JSON model.
    #[arg(long, value_name = "FILE")]
    pub worst_case: Option<PathBuf>,
    /// --ambiguity static: the state whose value is bracketed (default 0).
    #[arg(long, value_name = "STATE", allow_negative_numbers = true)]
    pub initial_state: Option<u32>,
}

impl RobustArgs {
    /// Whether any robust flag was given without `--ambiguity`.
    pub fn check_unused(&self) -> Result<(), Failure> {
        // Nature's model is written as JSON; a name that says another format would give a
        // file that no reader takes for what its name says.
        if let Some(file) = &self.worst_case
            && !matches!(
                decide_io::Format::from_path(file),
                Some(decide_io::Format::Json)
            )
        {
            return Err(Failure::usage(format!(
                "{}: --worst-case writes a JSON model; give the file a .json name",
                file.display()
            )));
        }
        if self.ambiguity.is_some() {
            return Ok(());
        }
        let stray = [
            (self.rectangularity.is_some(), "--rectangularity"),
            (!self.family.is_empty(), "--family"),
            (self.worst_case.is_some(), "--worst-case"),
            (self.initial_state.is_some(), "--initial-state"),
        ];
        match stray.iter().find(|(given, _)| *given) {
            Some((_, flag)) => Err(Failure::usage(format!(
                "{flag} applies to robust solving only: add --ambiguity"
            ))),
            None => Ok(()),
        }
    }
}

/// What a robust command needs, loaded and checked.
struct Setup {
    model: LoadedModel,
    objective: Objective,
    family: Vec<TabularMdp>,
    interval: Option<IntervalBounds>,
    spec: AmbiguitySpec,
    rectangularity: Rectangularity,
}

impl Setup {
    fn ambiguity(&self) -> Ambiguity<'_> {
        match self.spec {
            AmbiguitySpec::L1(radius) => Ambiguity::L1 { radius },
            AmbiguitySpec::Kl(radius) => Ambiguity::Kl { radius },
            AmbiguitySpec::Interval => {
                Ambiguity::Interval(self.interval.as_ref().expect("loaded for interval"))
            }
            AmbiguitySpec::Finite | AmbiguitySpec::Static => Ambiguity::Finite(&self.family),
        }
    }

    fn problem(&self) -> RobustProblem<'_> {
        RobustProblem::new(&self.model.mdp, self.objective, self.ambiguity())
            .with_rectangularity(self.rectangularity)
    }
}

fn robust_failure(path: &Path, e: RobustError) -> Failure {
    match e {
        RobustError::Unsupported(_) => {
            Failure::usage(format!("{}: {e}", decide_io::display_name(path)))
        }
        _ => Failure::Model(anyhow::anyhow!("{}: {e}", decide_io::display_name(path))),
    }
}

fn setup(
    model_args: &ModelArgs,
    objective: &crate::ObjectiveArgs,
    args: &RobustArgs,
) -> Result<Setup, Failure> {
    let spec = args.ambiguity.expect("called with --ambiguity");
    let path = &model_args.model;
    let model = load(model_args)?;
    check_distributions(&model, path)?;
    let objective = objective.resolve(&model, path)?;
    if !matches!(objective.criterion, Criterion::Discounted { .. }) {
        return Err(Failure::usage(format!(
            "--ambiguity needs the discounted criterion, not {}",
            objective.criterion.as_str()
        )));
    }
    if model.is_stage_dependent() {
        return Err(Failure::usage(
            "--ambiguity takes a stationary model, not a stage-dependent one",
        ));
    }
    let rectangularity = args.rectangularity.unwrap_or_default();
    if rectangularity == Rectangularity::S && !matches!(spec, AmbiguitySpec::L1(_)) {
        return Err(Failure::usage(
            "--rectangularity s is available for --ambiguity l1:K only",
        ));
    }
    let wants_family = matches!(spec, AmbiguitySpec::Finite | AmbiguitySpec::Static);
    if wants_family && args.family.is_empty() {
        return Err(Failure::usage(
            "--ambiguity finite and static need the other models: --family FILE...",
        ));
    }
    if !wants_family && !args.family.is_empty() {
        return Err(Failure::usage(
            "--family applies to --ambiguity finite or static",
        ));
    }
    if args.initial_state.is_some() && spec != AmbiguitySpec::Static {
        return Err(Failure::usage(
            "--initial-state applies to --ambiguity static",
        ));
    }
    let mut family = Vec::new();
    if wants_family {
        family.push(model.mdp.clone());
        let options = read_options(&model_args.read)?;
        for file in &args.family {
            let other = decide_io::read_model(file, &options)?;
            check_distributions(&other, file)?;
            if other.is_stage_dependent() {
                return Err(Failure::usage(format!(
                    "{}: a family takes stationary models",
                    file.display()
                )));
            }
            // One objective for the whole family: a member that says otherwise (its own
            // discount or sense) would be solved under the first model's without a word.
            let differs = |what: &str, mine: String, theirs: String| {
                Failure::Model(anyhow::anyhow!(
                    "{}: its {what} is {theirs} but {} has {mine}; a family shares the first model's {what}",
                    file.display(),
                    decide_io::display_name(path)
                ))
            };
            if let (Some(a), Some(b)) = (model.discount, other.discount)
                && a != b
            {
                return Err(differs("discount", a.to_string(), b.to_string()));
            }
            if let (Some(a), Some(b)) = (model.sense, other.sense)
                && a != b
            {
                return Err(differs("sense", format!("{a:?}"), format!("{b:?}")));
            }
            check_family(&model.mdp, std::slice::from_ref(&other.mdp)).map_err(|e| {
                Failure::Model(anyhow::anyhow!(
                    "{}: {}",
                    file.display(),
                    e.to_string().replace("model 0", "this model")
                ))
            })?;
            family.push(other.mdp);
        }
    }
    let interval = if spec == AmbiguitySpec::Interval {
        let Some(bounds) = &model.bounds else {
            return Err(Failure::usage(format!(
                "{}: --ambiguity interval needs bounds in the model: CSV columns probability_low,probability_high, or JSON transitions [s, a, next, p, r, low, high]",
                decide_io::display_name(path)
            )));
        };
        Some(IntervalBounds {
            low: bounds.low.clone(),
            high: bounds.high.clone(),
        })
    } else {
        None
    };
    Ok(Setup {
        model,
        objective,
        family,
        interval,
        spec,
        rectangularity,
    })
}

fn robust_algorithm(algorithm: decide_solve::Algorithm) -> Result<RobustAlgorithm, Failure> {
    use decide_solve::Algorithm as A;
    match algorithm {
        A::Auto | A::ModifiedPolicyIteration | A::PolicyIteration => {
            Ok(RobustAlgorithm::ModifiedPolicyIteration { sweeps: 20 })
        }
        A::ValueIteration => Ok(RobustAlgorithm::ValueIteration),
        other => Err(Failure::usage(format!(
            "--algorithm {}: robust solving uses auto (robust modified policy iteration), mpi, pi (the same) or vi",
            other.as_str()
        ))),
    }
}

fn write_model(path: &Path, mdp: &TabularMdp, objective: &Objective) -> Result<(), Failure> {
    let loaded = LoadedModel {
        mdp: mdp.clone(),
        summary: Default::default(),
        discount: Some(objective.discount()),
        sense: Some(objective.sense),
        format: decide_io::Format::Json,
        later_stages: Vec::new(),
        bounds: None,
    };
    Ok(decide_io::json_model::write(path, &loaded)?)
}

/// Writing the summary into memory, which does not fail.
fn stdout_error(e: std::io::Error) -> Failure {
    Failure::Usage(anyhow::Error::from(e).context("writing the summary"))
}

fn write_json(path: &Path, value: &serde_json::Value) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).expect("plain JSON values");
    Ok(decide_io::atomic::write_atomically(path, |w| {
        w.write_all(text.as_bytes())?;
        w.write_all(b"\n")
    })?)
}

/// How far from 1 a pair's probabilities may sum in a robust solve: nature's choices are
/// built from them and must be distributions (`robust::operator` checks them at 1e-7).
const DISTRIBUTION_TOLERANCE: f64 = 1e-7;

/// Refuses a model a loose `--probability-tolerance` (or a file built with one) let in with
/// sums too far from 1 for the ambiguity sets to be sets of distributions.
fn check_distributions(
    model: &decide_io::LoadedModel,
    path: &std::path::Path,
) -> Result<(), Failure> {
    let deviation = model.summary.max_probability_sum_deviation;
    if deviation > DISTRIBUTION_TOLERANCE {
        return Err(Failure::Model(anyhow::anyhow!(
            "{}: robust solves need each (state, action)'s probabilities to sum to 1 within {DISTRIBUTION_TOLERANCE:e} (nature chooses among distributions around them); they are off by up to {deviation:.3e}",
            decide_io::display_name(path)
        )));
    }
    Ok(())
}

/// `decide solve MODEL --ambiguity ...`. Returns whether it converged.
pub fn solve(args: &crate::SolveArgs, limits: &Limits) -> Result<bool, Failure> {
    let robust = &args.robust;
    let s = setup(&args.model, &args.objective, robust)?;
    let path = &args.model.model;
    if s.spec == AmbiguitySpec::Static {
        return solve_static(args, &s, limits);
    }
    let algorithm = robust_algorithm(args.algorithm)?;
    let problem = s.problem();
    let mut observer = crate::progress::Progress::new(
        !args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let interrupt = crate::install_interrupt_handler();
    let result = solve_robust_with(&problem, algorithm, limits, &mut observer, &interrupt)
        .map_err(|e| robust_failure(path, e))?;
    drop(observer);
    let solution = &result.solution;
    let path_text = decide_io::display_name(path).into_owned();
    if let Some(output) = &args.output {
        let context = SolutionContext {
            model_path: &path_text,
            discount: s.objective.discount(),
            sense: s.objective.sense,
            n_states: s.model.mdp.n_states(),
            state_names: s.model.mdp.state_names(),
            action_names: s.model.mdp.action_names(),
        };
        match &result.randomized {
            None => decide_io::solution::write_solution_json(output, solution, &context)?,
            // s-rectangular: the policy randomises, and the file must say how (as
            // `[[action, probability], ...]` per state), or `decide eval` of it would
            // evaluate another, deterministic policy.
            Some(weights) => decide_io::solution::write_solution_json_amended(
                output,
                solution,
                &context,
                |fields| {
                    let randomised = weights
                        .iter()
                        .map(|choice| {
                            if choice.is_empty() {
                                serde_json::Value::Null
                            } else {
                                choice
                                    .iter()
                                    .map(|(a, p)| serde_json::json!([a.0, p]))
                                    .collect()
                            }
                        })
                        .collect();
                    fields.insert("policy".into(), randomised);
                },
            )?,
        }
    }
    if let Some(policy_csv) = &args.policy_csv {
        match &result.randomized {
            // s-rectangular: the randomised policy, as `decide eval` reads it.
            Some(weights) => {
                decide_io::atomic::write_atomically(policy_csv, |w| {
                    writeln!(w, "state,action,probability")?;
                    for (st, choice) in weights.iter().enumerate() {
                        for (a, p) in choice {
                            writeln!(w, "{st},{},{p}", a.0)?;
                        }
                    }
                    Ok(())
                })?;
            }
            None => decide_io::solution::write_policy_csv(
                policy_csv,
                solution,
                s.model.mdp.action_names(),
            )?,
        }
    }
    if let Some(file) = &robust.worst_case {
        write_model(file, &result.worst_case, &s.objective)?;
    }
    let summary = || -> std::io::Result<()> {
        crate::print_summary(&s.model, path, &s.objective, solution)?;
        let mut out = std::io::stdout().lock();
        if let Some(weights) = &result.randomized {
            for (st, choice) in weights.iter().enumerate().take(8) {
                if choice.len() > 1 {
                    let shown: Vec<String> = choice
                        .iter()
                        .map(|(a, p)| format!("{a} with {p:.6}"))
                        .collect();
                    writeln!(
                        out,
                        "  {} randomises: {}",
                        StateId(st as u32),
                        shown.join(", ")
                    )?;
                }
            }
        }
        if let Some(file) = &robust.worst_case {
            writeln!(
                out,
                "worst case   nature's model for this policy written to {}",
                file.display()
            )?;
        }
        Ok(())
    };
    if !args.quiet {
        crate::stdout_result(summary())?;
    }
    Ok(solution.report.is_converged())
}

/// The exact value of `policy` (actions, `None` at terminal states) in `mdp`.
fn policy_value(mdp: &TabularMdp, discount: f64, policy: &[Option<ActionId>]) -> Vec<f64> {
    let pairs: Vec<usize> = policy
        .iter()
        .enumerate()
        .map(|(st, a)| {
            a.and_then(|a| mdp.pair_of(StateId(st as u32), a))
                .unwrap_or(usize::MAX)
        })
        .collect();
    let mut v: Vec<f64> = (0..mdp.n_states())
        .map(|st| mdp.terminal_value(st))
        .collect();
    decide_solve::evaluate::evaluate(mdp, discount, &pairs, &mut v);
    v
}

fn family_name(args: &RobustArgs, model: &Path, m: usize) -> String {
    if m == 0 {
        decide_io::display_name(model).into_owned()
    } else {
        args.family[m - 1].display().to_string()
    }
}

fn initial_state(args: &RobustArgs, mdp: &TabularMdp) -> Result<usize, Failure> {
    let s0 = args.initial_state.unwrap_or(0) as usize;
    if s0 >= mdp.n_states() {
        return Err(Failure::usage(format!(
            "--initial-state {s0}: the model has {} states",
            mdp.n_states()
        )));
    }
    Ok(s0)
}

/// The index of the worst model of the family for `policy` at `s0`, and every model's value.
fn worst_model(s: &Setup, policy: &[Option<ActionId>], s0: usize) -> (usize, Vec<Vec<f64>>) {
    let values: Vec<Vec<f64>> = s
        .family
        .iter()
        .map(|m| policy_value(m, s.objective.discount(), policy))
        .collect();
    let mut worst = 0;
    for (m, v) in values.iter().enumerate() {
        if s.objective.sense.better(values[worst][s0], v[s0]) {
            worst = m;
        }
    }
    (worst, values)
}

fn solve_static(args: &crate::SolveArgs, s: &Setup, limits: &Limits) -> Result<bool, Failure> {
    let robust = &args.robust;
    let path = &args.model.model;
    let s0 = initial_state(robust, &s.model.mdp)?;
    let options = IwocsOptions {
        initial_state: s0,
        max_iterations: args.max_iterations.map_or(50, |k| k.max(1) as usize),
        tolerance: limits.tolerance,
        ..IwocsOptions::default()
    };
    let started = std::time::Instant::now();
    let result = iwocs(&StaticSet::Finite(&s.family), s.objective, &options)
        .map_err(|e| robust_failure(path, e))?;
    // The sa-rectangular robust value of the same family, for comparison.
    let rect_problem = RobustProblem::new(&s.family[0], s.objective, Ambiguity::Finite(&s.family));
    let rect = solve_robust(
        &rect_problem,
        RobustAlgorithm::ModifiedPolicyIteration { sweeps: 20 },
        &Limits {
            tolerance: 1e-9,
            ..*limits
        },
    )
    .map_err(|e| robust_failure(path, e))?;
    let rect_value = rect.solution.values[s0];
    let (worst, values) = worst_model(s, &result.policy, s0);
    let found: Vec<String> = result
        .family_index
        .as_ref()
        .map(|f| f.iter().map(|&m| family_name(robust, path, m)).collect())
        .unwrap_or_default();
    let mdp = &s.model.mdp;
    let action_text = |a: Option<ActionId>| match a {
        None => serde_json::Value::Null,
        Some(a) => serde_json::json!(a.0),
    };
    if let Some(output) = &args.output {
        let value = serde_json::json!({
            "ambiguity": "static",
            "models": (0..s.family.len()).map(|m| family_name(robust, path, m)).collect::<Vec<_>>(),
            "initial_state": s0,
            "lower": result.lower,
            "upper": result.upper,
            "converged": result.converged,
            "iterations": result.history.len(),
            "policy": result.policy.iter().map(|&a| action_text(a)).collect::<Vec<_>>(),
            "worst_case": family_name(robust, path, worst),
            "values_by_model": values.iter().map(|v| v[s0]).collect::<Vec<_>>(),
            "models_found": found,
            "history": result.history.iter().map(|it| serde_json::json!({
                "lower": it.lower, "upper": it.upper, "new_model": it.new_model,
            })).collect::<Vec<_>>(),
            "rectangular_value": rect_value,
        });
        write_json(output, &value)?;
    }
    if let Some(policy_csv) = &args.policy_csv {
        decide_io::atomic::write_atomically(policy_csv, |w| {
            writeln!(w, "state,action")?;
            for (st, a) in result.policy.iter().enumerate() {
                if let Some(a) = a {
                    writeln!(w, "{st},{}", a.0)?;
                }
            }
            Ok(())
        })?;
    }
    if let Some(file) = &robust.worst_case {
        write_model(file, &s.family[worst], &s.objective)?;
    }
    if !args.quiet {
        let mut out = std::io::stdout().lock();
        let mut lines = vec![
            format!(
                "model        {} and {} more (a static family of {} models: nature picks one for the whole episode)",
                decide_io::display_name(path),
                s.family.len() - 1,
                s.family.len()
            ),
            format!(
                "objective    {}, discounted, discount {}",
                s.objective.sense,
                s.objective.discount()
            ),
            format!(
                "algorithm    iwocs: {} after {} iterations, {:.3} s",
                if result.converged {
                    "converged"
                } else {
                    "not converged"
                },
                result.history.len(),
                started.elapsed().as_secs_f64()
            ),
            format!(
                "bracket      static robust value at {} in [{:.9}, {:.9}] (deterministic stationary policies); the policy below guarantees {:.9}",
                StateId(s0 as u32),
                result.lower,
                result.upper,
                if s.objective.sense == Sense::Maximize {
                    result.lower
                } else {
                    result.upper
                }
            ),
            format!("worst cases  found in order: {}", found.join(", ")),
            format!(
                "worst model  for this policy: {} (values at {} by model: {})",
                family_name(robust, path, worst),
                StateId(s0 as u32),
                values
                    .iter()
                    .map(|v| format!("{:.6}", v[s0]))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!(
                "rectangular  sa-rectangular robust value of the same family at {}: {:.9} (nature may switch models at every step)",
                StateId(s0 as u32),
                rect_value
            ),
        ];
        for (st, a) in result.policy.iter().enumerate().take(8) {
            lines.push(format!(
                "  {}: action {}",
                StateId(st as u32),
                a.map_or("terminal".to_string(), |a| a.to_string())
            ));
        }
        if mdp.n_states() > 8 {
            lines.push(format!(
                "  ... {} more states (use --output FILE or --policy-csv FILE for all)",
                mdp.n_states() - 8
            ));
        }
        crate::stdout_result(lines.iter().try_for_each(|line| writeln!(out, "{line}")))?;
    }
    Ok(result.converged)
}

/// `decide eval MODEL --policy FILE --ambiguity ...`. Returns whether it converged.
pub fn eval(args: &crate::policy_commands::EvalArgs) -> Result<bool, Failure> {
    let robust = &args.robust;
    let s = setup(&args.model, &args.objective, robust)?;
    let path = &args.model.model;
    let mdp = &s.model.mdp;
    let policy = decide_io::policy::read_policy(&args.policy, mdp)?;
    let mut actions = Vec::with_capacity(policy.len());
    for (st, choice) in policy.iter().enumerate() {
        match choice.as_slice() {
            [] => actions.push(None),
            [(a, _)] => actions.push(Some(*a)),
            _ => {
                return Err(Failure::usage(format!(
                    "{}: state {st} randomises; robust evaluation takes a deterministic policy",
                    args.policy.display()
                )));
            }
        }
    }
    let path_text = decide_io::display_name(path).into_owned();
    let context = SolutionContext {
        model_path: &path_text,
        discount: s.objective.discount(),
        sense: s.objective.sense,
        n_states: mdp.n_states(),
        state_names: mdp.state_names(),
        action_names: mdp.action_names(),
    };
    // The summary is gathered, then written at once (see `crate::stdout_result`).
    let mut out: Vec<u8> = Vec::new();
    if s.spec == AmbiguitySpec::Static {
        let s0 = initial_state(robust, mdp)?;
        let (worst, values) = worst_model(&s, &actions, s0);
        if let Some(file) = &robust.worst_case {
            write_model(file, &s.family[worst], &s.objective)?;
        }
        if let Some(output) = &args.output {
            let value = serde_json::json!({
                "ambiguity": "static",
                "initial_state": s0,
                "value": values[worst][s0],
                "worst_case": family_name(robust, path, worst),
                "values": values[worst],
                "values_by_model": values.iter().map(|v| v[s0]).collect::<Vec<_>>(),
            });
            write_json(output, &value)?;
        }
        writeln!(
            out,
            "policy       {} under a static family of {} models",
            args.policy.display(),
            s.family.len()
        )
        .map_err(stdout_error)?;
        for (m, v) in values.iter().enumerate() {
            writeln!(
                out,
                "  {}: value at {} {:.9}",
                family_name(robust, path, m),
                StateId(s0 as u32),
                v[s0]
            )
            .map_err(stdout_error)?;
        }
        writeln!(
            out,
            "worst case   {}: value {:.9} at {}",
            family_name(robust, path, worst),
            values[worst][s0],
            StateId(s0 as u32)
        )
        .map_err(stdout_error)?;
        crate::stdout_result(std::io::stdout().lock().write_all(&out))?;
        return Ok(true);
    }
    let problem = s.problem();
    if s.rectangularity == Rectangularity::S {
        return Err(Failure::usage(
            "robust evaluation supports --rectangularity sa only",
        ));
    }
    let limits = Limits {
        tolerance: 1e-9,
        ..Limits::default()
    };
    let e = evaluate_robust(&problem, &actions, &limits).map_err(|e| match e {
        RobustError::Solve(inner) => {
            Failure::Model(anyhow::anyhow!("{}: {inner}", args.policy.display()))
        }
        other => robust_failure(path, other),
    })?;
    if let Some(file) = &robust.worst_case {
        write_model(file, &e.worst_case, &s.objective)?;
    }
    if let Some(output) = &args.output {
        let solution = Solution {
            values: e.values.clone(),
            policy: actions.clone(),
            lower: e.lower.clone(),
            upper: e.upper.clone(),
            report: Report {
                notes: e.report.notes.clone(),
                ..e.report.clone()
            },
            gain: None,
            stages: None,
        };
        decide_io::solution::write_solution_json(output, &solution, &context)?;
    }
    writeln!(
        out,
        "policy       {} (deterministic), robust evaluation against {}",
        args.policy.display(),
        problem.ambiguity.describe()
    )
    .map_err(stdout_error)?;
    writeln!(
        out,
        "accuracy     robust values within {:.2e} ({}); the worst-case model found gives the policy the values in brackets",
        e.report.certificate.value_error, e.report.status
    )
    .map_err(stdout_error)?;
    for st in 0..mdp.n_states().min(8) {
        writeln!(
            out,
            "  {}: robust value {:.9} [worst-case model {:.9}]",
            StateId(st as u32),
            e.values[st],
            e.worst_case_values[st]
        )
        .map_err(stdout_error)?;
    }
    if mdp.n_states() > 8 {
        writeln!(
            out,
            "  ... {} more states (use --output FILE for all)",
            mdp.n_states() - 8
        )
        .map_err(stdout_error)?;
    }
    if let Some(file) = &robust.worst_case {
        writeln!(out, "worst case   written to {}", file.display()).map_err(stdout_error)?;
    }
    crate::stdout_result(std::io::stdout().lock().write_all(&out))?;
    Ok(e.report.status == Status::Converged || e.report.is_converged())
}
