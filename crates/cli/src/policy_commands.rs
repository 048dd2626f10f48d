//! `decide eval` (the exact value of a given policy) and `decide simulate` (Monte Carlo
//! returns of a policy, reproducible from a seed).

use crate::{Failure, ModelArgs, ObjectiveArgs, load};
use clap::Args;
use decide_core::generate::splitmix64;
use decide_core::{Criterion, Interrupt, Limits, StateId};
use decide_io::policy::{Policy, induced_chain, read_policy};
use decide_solve::{Algorithm, Problem};
use std::io::Write;
use std::path::PathBuf;

/// `decide eval MODEL --policy FILE`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// The policy: CSV `state,action[,probability]` (several rows per state for a randomised
    /// policy) or a solution JSON written by `decide solve --output`.
    #[arg(long, value_name = "FILE")]
    pub(crate) policy: PathBuf,
    #[command(flatten)]
    pub(crate) objective: ObjectiveArgs,
    /// Write the policy's values (and report) as JSON.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) robust: crate::robust::RobustArgs,
}

/// `decide simulate MODEL --policy FILE --episodes N --seed S`.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// The policy (as for `decide eval`).
    #[arg(long, value_name = "FILE")]
    policy: PathBuf,
    #[command(flatten)]
    objective: ObjectiveArgs,
    /// Number of episodes.
    #[arg(
        long,
        default_value_t = 1000,
        value_name = "N",
        allow_negative_numbers = true
    )]
    episodes: u64,
    /// Seed of the random stream (SplitMix64): the same seed gives the same returns.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "S",
        allow_negative_numbers = true
    )]
    seed: u64,
    /// Longest episode, in steps (default: the finite horizon; for discounted models until
    /// γ^t < 1e-12; otherwise 100000). Episodes also end at terminal states.
    #[arg(long = "steps", value_name = "H", allow_negative_numbers = true)]
    steps: Option<u64>,
    /// The state every episode starts in.
    #[arg(
        long,
        default_value_t = 0,
        value_name = "STATE",
        allow_negative_numbers = true
    )]
    start: u32,
}

/// Evaluates a policy exactly: the value of the Markov reward process it induces, solved by
/// the same certified solvers (one action per state, so policy iteration is one exact solve).
pub fn eval(args: &EvalArgs) -> Result<bool, Failure> {
    args.robust.check_unused()?;
    let outputs = [
        ("--output", args.output.as_deref()),
        ("--worst-case", args.robust.worst_case.as_deref()),
    ];
    crate::check_distinct_outputs(&outputs)?;
    let mut inputs = vec![
        ("the model", args.model.model.as_path()),
        ("the policy", args.policy.as_path()),
    ];
    inputs.extend(
        args.robust
            .family
            .iter()
            .map(|f| ("a --family model", f.as_path())),
    );
    crate::check_outputs_spare_inputs(&outputs, &inputs)?;
    if args.robust.ambiguity.is_some() {
        return crate::robust::eval(args);
    }
    let model = load(&args.model)?;
    let path = &args.model.model;
    let objective = args.objective.resolve(&model, path)?;
    crate::check_stage_memory(&objective, model.mdp.n_states())?;
    let policy = read_policy(&args.policy, &model.mdp)?;
    let chain = induced_chain(&model.mdp, &policy)
        .map_err(|e| Failure::Model(anyhow::anyhow!("{}: {e}", args.policy.display())))?;
    let problem = Problem::new(&chain, objective);
    let limits = Limits {
        tolerance: 1e-9,
        ..Limits::default()
    };
    let solved = match objective.criterion {
        // A stage-dependent model: the policy's chain at every stage, by backward induction.
        Criterion::FiniteHorizon { horizon, discount } if model.is_stage_dependent() => {
            let later = model
                .later_stages
                .iter()
                .map(|stage| induced_chain(stage, &policy))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| Failure::Model(anyhow::anyhow!("{}: {e}", args.policy.display())))?;
            let chains: Vec<&_> = std::iter::once(&chain).chain(&later).collect();
            decide_solve::finite::backward_induction(
                &chains,
                horizon,
                discount,
                objective.sense,
                None,
                &mut (),
            )
        }
        _ => decide_solve::solve_with(
            &problem,
            Algorithm::Auto,
            &limits,
            &mut (),
            &Interrupt::new(),
        ),
    };
    let solution = solved
        .map_err(|e| match e {
            decide_solve::SolveError::NoProperPolicy { states, count } => Failure::Model(anyhow::anyhow!(
                "{}: the policy is improper: it never reaches a terminal state from {count} states ({states}), so its total reward is unbounded or undefined there",
                args.policy.display()
            )),
            other => Failure::Model(anyhow::anyhow!(
                "{}: {other}",
                decide_io::display_name(path)
            )),
        })?;
    if let Some(output) = &args.output {
        let path_text = decide_io::display_name(path).into_owned();
        let context = decide_io::solution::SolutionContext {
            model_path: &path_text,
            discount: objective.discount(),
            sense: objective.sense,
            n_states: model.mdp.n_states(),
            state_names: model.mdp.state_names(),
            action_names: model.mdp.action_names(),
        };
        // Report the evaluated policy itself, not the chain's single action.
        let mut shown = solution.clone();
        shown.policy = policy
            .iter()
            .map(|c| (c.len() == 1).then(|| c[0].0))
            .collect();
        decide_io::solution::write_solution_json(output, &shown, &context)?;
    }
    let mut out = std::io::stdout().lock();
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(
            out,
            "policy       {} ({})",
            args.policy.display(),
            if policy.iter().any(|c| c.len() > 1) {
                "randomised"
            } else {
                "deterministic"
            }
        )?;
        writeln!(out, "criterion    {}", objective.criterion.as_str())?;
        let multichain = multichain_gains(&chain, &solution);
        match (&solution.gain, &multichain) {
            (Some(_), Some((lines, _))) => {
                for line in lines {
                    writeln!(out, "{line}")?;
                }
            }
            (Some(gain), None) => writeln!(
                out,
                "gain         {:.9} per step, in [{:.9}, {:.9}]; values below are the bias relative to s0",
                gain.value, gain.lower, gain.upper
            )?,
            (None, _) => {}
        }
        if matches!(objective.criterion, Criterion::Total) {
            writeln!(
                out,
                "proper       yes: it reaches a terminal state with probability 1 from every state"
            )?;
        }
        // The average criterion bounds the gain, not the bias: no per-state accuracy to give.
        if solution.gain.is_none() {
            writeln!(
                out,
                "accuracy     values within {:.2e} of the policy's exact value",
                solution.report.certificate.value_error
            )?;
        }
        for s in 0..model.mdp.n_states().min(8) {
            match &multichain {
                Some((_, gains)) => writeln!(
                    out,
                    "  {}: gain {:.9} per step",
                    StateId(s as u32),
                    gains[s]
                )?,
                None => writeln!(
                    out,
                    "  {}: value {:.9}",
                    StateId(s as u32),
                    solution.values[s]
                )?,
            }
        }
        if model.mdp.n_states() > 8 {
            writeln!(
                out,
                "  ... {} more states (use --output FILE for all)",
                model.mdp.n_states() - 8
            )?;
        }
        Ok(())
    };
    crate::stdout_result(write(&mut out))?;
    Ok(solution.report.is_converged())
}

/// For a result with status `multichain` (average criterion): the summary lines that say the
/// gain is not constant and give each closed class of the policy with its gain, and every
/// state's gain under the policy. `None` for any other result.
pub(crate) fn multichain_gains(
    mdp: &decide_core::TabularMdp,
    solution: &decide_core::Solution,
) -> Option<(Vec<String>, Vec<f64>)> {
    if solution.report.status != decide_core::Status::Multichain {
        return None;
    }
    let (classes, gains) = decide_solve::average::policy_gains(mdp, &solution.policy);
    let mut lines = vec![format!(
        "gain         not the same in every state: the model is multichain under this policy ({} closed classes); states below show their own gain, not a bias",
        classes.len()
    )];
    const SHOWN: usize = 6;
    for (members, gain) in classes.iter().take(SHOWN) {
        let listed: Vec<String> = members
            .iter()
            .take(5)
            .map(|&s| StateId(s as u32).to_string())
            .collect();
        let more = if members.len() > 5 {
            format!(" and {} more", members.len() - 5)
        } else {
            String::new()
        };
        lines.push(format!(
            "  class {{{}{more}}}: gain {gain:.9} per step",
            listed.join(", ")
        ));
    }
    if classes.len() > SHOWN {
        lines.push(format!("  ... {} more classes", classes.len() - SHOWN));
    }
    Some((lines, gains))
}

/// A uniform number in [0, 1) from the counter-based stream.
fn uniform(seed: u64, counter: &mut u64) -> f64 {
    let word = splitmix64(seed, *counter);
    *counter += 1;
    (word >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The index drawn from `weights` (which sum to 1 up to rounding) with uniform `u`.
fn draw(u: f64, weights: impl Iterator<Item = f64>) -> usize {
    let mut acc = 0.0;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        acc += w;
        last = i;
        if u < acc {
            return i;
        }
    }
    last
}

/// Summary statistics of the simulated returns.
pub struct Returns {
    /// Mean return.
    pub mean: f64,
    /// Standard error of the mean.
    pub standard_error: f64,
    /// Episodes that ended in a terminal state.
    pub terminated: u64,
}

/// Simulates `episodes` episodes of `policy` from `start`, with per-outcome rewards.
pub fn simulate_returns(
    mdp: &decide_core::TabularMdp,
    policy: &Policy,
    discount: f64,
    steps: u64,
    episodes: u64,
    seed: u64,
    start: usize,
    average: bool,
) -> Returns {
    // In an average-reward simulation an absorbing state keeps earning (here 0) per step, so
    // the episode must run its full length.
    // Absorbing zero-reward states end an episode as terminal states do: nothing more
    // happens there, and simulating it would only burn time.
    let ends = decide_solve::total::terminating_states(mdp);
    let mut counter = 0u64;
    let (mut sum, mut sum_sq, mut terminated) = (0.0, 0.0, 0u64);
    for _ in 0..episodes {
        let mut state = start;
        let mut total = 0.0;
        let mut weight = 1.0;
        let mut t = 0;
        while t < steps {
            let id = StateId(state as u32);
            if ends[state] && !average {
                total += weight * mdp.terminal_value(state);
                terminated += 1;
                break;
            }
            let choices = &policy[state];
            let pick = draw(uniform(seed, &mut counter), choices.iter().map(|c| c.1));
            let Some(k) = mdp.pair_of(id, choices[pick].0) else {
                break;
            };
            let outcomes: Vec<_> = mdp.outcomes(k).collect();
            let o = outcomes[draw(
                uniform(seed, &mut counter),
                outcomes.iter().map(|o| o.probability),
            )];
            total += weight * o.reward;
            weight *= discount;
            state = o.next.index();
            t += 1;
        }
        if average && t > 0 {
            total /= t as f64;
        }
        sum += total;
        sum_sq += total * total;
    }
    let n = episodes.max(1) as f64;
    let mean = sum / n;
    let variance = if episodes > 1 {
        (sum_sq - n * mean * mean).max(0.0) / (n - 1.0)
    } else {
        0.0
    };
    Returns {
        mean,
        standard_error: (variance / n).sqrt(),
        terminated,
    }
}

/// `decide simulate`: prints mean return, standard error and a 95% confidence interval.
pub fn simulate(args: &SimulateArgs) -> Result<bool, Failure> {
    let model = load(&args.model)?;
    let path = &args.model.model;
    if model.is_stage_dependent() {
        return Err(Failure::usage(format!(
            "{}: decide simulate takes stationary models only; this one has {} stages (decide eval gives its exact value)",
            decide_io::display_name(path),
            model.later_stages.len() + 1
        )));
    }
    let objective = args.objective.resolve(&model, path)?;
    let policy = read_policy(&args.policy, &model.mdp)?;
    let start = args.start as usize;
    if start >= model.mdp.n_states() {
        return Err(Failure::usage(format!(
            "--start {start} is not a state of the model (0..{})",
            model.mdp.n_states()
        )));
    }
    if args.episodes == 0 {
        return Err(Failure::usage("--episodes must be at least 1"));
    }
    let discount = objective.discount();
    let steps = args.steps.unwrap_or(match objective.criterion {
        Criterion::FiniteHorizon { horizon, .. } => horizon as u64,
        Criterion::Discounted { discount } if discount > 0.0 => {
            ((1e-12f64).ln() / discount.ln()).ceil() as u64
        }
        Criterion::Discounted { .. } => 1,
        _ => 100_000,
    });
    let average = matches!(objective.criterion, Criterion::Average);
    let r = simulate_returns(
        &model.mdp,
        &policy,
        discount,
        steps,
        args.episodes,
        args.seed,
        start,
        average,
    );
    let half = 1.96 * r.standard_error;
    let mut out = std::io::stdout().lock();
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        writeln!(
            out,
            "episodes     {} from {} (seed {}, at most {steps} steps each; {} ended in a terminal state)",
            args.episodes,
            StateId(start as u32),
            args.seed,
            r.terminated
        )?;
        writeln!(
            out,
            "{}  {:.9}",
            if average {
                "mean reward per step"
            } else {
                "mean return "
            },
            r.mean
        )?;
        writeln!(out, "std. error   {:.9}", r.standard_error)?;
        writeln!(
            out,
            "95% CI       [{:.9}, {:.9}]",
            r.mean - half,
            r.mean + half
        )
    };
    crate::stdout_result(write(&mut out))?;
    // Under the total criterion an episode cut by the step limit has no total reward yet:
    // the mean above is of truncated sums, and may stand for an unbounded total.
    let cut = args.episodes - r.terminated;
    if matches!(objective.criterion, Criterion::Total) && cut > 0 {
        drop(out);
        eprintln!(
            "warning: {cut} of {} episodes did not terminate within {steps} steps: the total reward of this policy may be unbounded (the mean return above is of truncated episodes)",
            args.episodes
        );
        return Ok(false);
    }
    Ok(true)
}
