//! `decide generate`: reproducible benchmark models, written in any format by extension.
//!
//! ```text
//! decide generate random    --states N --actions A --outcomes B --seed S OUT
//! decide generate gridworld --width W [--height H] [--slip P] OUT
//! decide generate forest    --states S [--r1 4] [--r2 2] [--p 0.1] OUT
//! ```
//!
//! OUT is `.csv` (with a sidecar `NAME.meta.json` giving counts, discount and sense),
//! `.json` or `.decide`. A CSV is streamed row by row in the generator's own order, numbers
//! printed as Python's `repr` prints them (shortest round-trip text, `1.0` for integers,
//! `2.5e-05` below 1e-4), so `random --states 2000 --actions 4 --outcomes 5 --seed 42`
//! reproduces the reference data's `random_N2000_A4_B5_seed42.transitions.csv` byte for
//! byte. `.json` and `.decide` are compiled directly (no row builder).

use crate::Failure;
use clap::{Args, Subcommand, ValueEnum};
use decide_core::generate::{Forest, Gridworld, PairGenerator, SplitMixSparse, compile};
use decide_core::{BuildSummary, Sense, TabularMdp};
use decide_io::{Format, LoadedModel};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `decide generate KIND ... OUT`.
#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Subcommand, Debug)]
enum Kind {
    /// The splitmix-sparse v1 random MDP (fast-mixing), as defined in the reference data.
    Random {
        /// States N.
        #[arg(long, value_name = "N", allow_negative_numbers = true)]
        states: u32,
        /// Actions A (every state has all of them).
        #[arg(long, value_name = "A", allow_negative_numbers = true)]
        actions: u32,
        /// Distinct successors B per (state, action), 1..=16.
        #[arg(long, value_name = "B", allow_negative_numbers = true)]
        outcomes: u32,
        /// The seed.
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        seed: u64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// A slippery grid with an absorbing goal in the far corner, −1 per step (slow-mixing).
    Gridworld {
        /// Cells per row.
        #[arg(long, value_name = "W", allow_negative_numbers = true)]
        width: u32,
        /// Rows [default: the width].
        #[arg(long, value_name = "H", allow_negative_numbers = true)]
        height: Option<u32>,
        /// Probability of slipping to one side or the other.
        #[arg(
            long,
            default_value_t = 0.2,
            value_name = "P",
            allow_hyphen_values = true
        )]
        slip: f64,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// pymdptoolbox's forest-management example (mdptoolbox.example.forest).
    Forest {
        /// Stages S (at least 2).
        #[arg(long, value_name = "S", allow_negative_numbers = true)]
        states: u32,
        /// Reward of waiting in the oldest stage.
        #[arg(long, default_value_t = 4.0, allow_hyphen_values = true)]
        r1: f64,
        /// Reward of cutting in the oldest stage.
        #[arg(long, default_value_t = 2.0, allow_hyphen_values = true)]
        r2: f64,
        /// Probability of a fire.
        #[arg(long, default_value_t = 0.1, allow_hyphen_values = true)]
        p: f64,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Where to write: .csv (plus NAME.meta.json beside it), .json or .decide.
    output: PathBuf,
    /// Discount recorded in the model.
    #[arg(
        long,
        default_value_t = 0.99,
        value_name = "G",
        allow_hyphen_values = true
    )]
    discount: f64,
    /// `outcome`: a reward per outcome, as defined; `expected`: only r(s,a) per pair, all
    /// that solving needs (12 instead of 20 bytes per transition; .json and .decide only).
    #[arg(long, value_enum, default_value_t = Rewards::Outcome)]
    rewards: Rewards,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Rewards {
    Outcome,
    Expected,
}

/// Runs `decide generate`.
pub fn run(args: &GenerateArgs) -> Result<(), Failure> {
    match &args.kind {
        Kind::Random {
            states,
            actions,
            outcomes,
            seed,
            output,
        } => {
            let g = SplitMixSparse {
                n_states: *states,
                n_actions: *actions,
                n_successors: *outcomes,
                seed: *seed,
            };
            let source = format!(
                "decide generate random --states {states} --actions {actions} --outcomes {outcomes} --seed {seed} (splitmix-sparse v1)"
            );
            write(&g, output, &source)
        }
        Kind::Gridworld {
            width,
            height,
            slip,
            output,
        } => {
            let height = height.unwrap_or(*width);
            let g = Gridworld {
                width: *width,
                height,
                slip: *slip,
            };
            let source = format!(
                "decide generate gridworld --width {width} --height {height} --slip {slip}"
            );
            write(&g, output, &source)
        }
        Kind::Forest {
            states,
            r1,
            r2,
            p,
            output,
        } => {
            let g = Forest {
                n_states: *states,
                r1: *r1,
                r2: *r2,
                p: *p,
            };
            let source =
                format!("decide generate forest --states {states} --r1 {r1} --r2 {r2} --p {p}");
            write(&g, output, &source)
        }
    }
}

fn write(generator: &impl PairGenerator, args: &OutputArgs, source: &str) -> Result<(), Failure> {
    let path = &args.output;
    if !(args.discount.is_finite() && (0.0..=1.0).contains(&args.discount)) {
        return Err(Failure::usage(format!(
            "--discount must be in [0, 1], got {}",
            args.discount
        )));
    }
    generator
        .validate()
        .map_err(|e| Failure::usage(format!("{e}")))?;
    let format = Format::from_path(path);
    match format {
        Some(Format::Csv) => {
            if args.rewards == Rewards::Expected {
                return Err(Failure::usage(
                    "--rewards expected applies to .json and .decide outputs; a CSV lists a reward per outcome",
                ));
            }
            write_csv(generator, path, args.discount, source)
        }
        Some(Format::Json | Format::Binary) => {
            check_compiled_memory(generator, args.rewards == Rewards::Outcome)?;
            let mdp = compile(generator, args.rewards == Rewards::Outcome)
                .map_err(|e| Failure::usage(format!("{e}")))?;
            let model = LoadedModel {
                summary: BuildSummary {
                    rows: mdp.n_transitions() as u64,
                    ..BuildSummary::default()
                },
                mdp,
                discount: Some(args.discount),
                sense: Some(Sense::Maximize),
                format: Format::Binary,
                later_stages: Vec::new(),
                bounds: None,
            };
            if format == Some(Format::Json) {
                decide_io::json_model::write(path, &model)?;
            } else {
                decide_io::binary::write(path, &model)?;
            }
            report(path, &model.mdp)
        }
        _ => Err(Failure::usage(format!(
            "{}: can write .csv, .json or .decide models",
            path.display()
        ))),
    }
}

/// Refuses a model to compile in memory (for .json and .decide) that cannot fit, before
/// allocating it: the compiled arrays take per state 17 bytes, per pair 20, per transition
/// 12 (20 with a reward per outcome). A .csv is streamed and needs no such room.
fn check_compiled_memory(
    generator: &impl PairGenerator,
    outcome_rewards: bool,
) -> Result<(), Failure> {
    let states = u64::from(generator.n_states());
    let pairs = states.saturating_mul(u64::from(generator.n_actions()));
    let transitions = pairs.saturating_mul(generator.max_outcomes() as u64);
    let per_transition = if outcome_rewards { 20 } else { 12 };
    let needed = states
        .saturating_add(1)
        .saturating_mul(17)
        .saturating_add(pairs.saturating_add(1).saturating_mul(20))
        .saturating_add(transitions.saturating_mul(per_transition));
    decide_io::check_memory(needed, || {
        format!(
            "{states} states, {pairs} pairs, up to {transitions} transitions, compiled in memory"
        )
    })
    .map_err(|shortfall| {
        Failure::usage(format!(
            "the model {shortfall}; write it as .csv instead (streamed, in bounded memory) or make it smaller"
        ))
    })
}

fn report(path: &Path, mdp: &TabularMdp) -> Result<(), Failure> {
    crate::stdout_result(writeln!(
        std::io::stdout().lock(),
        "wrote {} ({} states, {} actions, {} transitions)",
        path.display(),
        mdp.n_states(),
        mdp.n_actions(),
        mdp.n_transitions()
    ))
}

/// Streams the rows as CSV (bounded memory whatever the size), then the sidecar.
fn write_csv(
    generator: &impl PairGenerator,
    path: &Path,
    discount: f64,
    source: &str,
) -> Result<(), Failure> {
    let mut rows = 0u64;
    let mut failure = None;
    decide_io::atomic::write_atomically(path, |w| {
        let mut out = Vec::with_capacity(1 << 20);
        out.extend_from_slice(b"state,action,next_state,probability,reward\n");
        let mut outcomes = Vec::with_capacity(generator.max_outcomes());
        let mut number = String::with_capacity(32);
        for s in 0..generator.n_states() {
            for a in 0..generator.n_actions() {
                if let Err(e) = generator.outcomes(s, a, &mut outcomes) {
                    failure = Some(e);
                    return Err(std::io::Error::other("generator failed"));
                }
                for &(next, p, r) in &outcomes {
                    push_row(&mut out, &mut number, s, a, next, p, r);
                    rows += 1;
                }
            }
            if out.len() >= (1 << 20) - 4096 {
                w.write_all(&out)?;
                out.clear();
            }
        }
        w.write_all(&out)
    })
    .map_err(|e| match failure.take() {
        Some(e) => Failure::usage(format!("{e}")),
        None => Failure::from(e),
    })?;
    let meta_path = decide_io::csv_model::sidecar_path(path)
        .ok_or_else(|| Failure::usage(format!("{}: not a .csv name", path.display())))?;
    let name = meta_path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".meta.json"))
        .unwrap_or("model")
        .to_string();
    let meta = serde_json::json!({
        "name": name,
        "source": source,
        "states": generator.n_states(),
        "actions": generator.n_actions(),
        "discount": discount,
        "sense": "maximize",
        "rows": rows,
        "duplicate_rows": 0,
        "duplicate_keys": 0,
        "absorbing_state": null,
    });
    decide_io::atomic::write_atomically(&meta_path, |w| {
        serde_json::to_writer_pretty(&mut *w, &meta).map_err(std::io::Error::from)?;
        w.write_all(b"\n")
    })?;
    crate::stdout_result(writeln!(
        std::io::stdout().lock(),
        "wrote {} ({} states, {} actions, {rows} rows) and {}",
        path.display(),
        generator.n_states(),
        generator.n_actions(),
        meta_path.display()
    ))
}

fn push_row(out: &mut Vec<u8>, number: &mut String, s: u32, a: u32, n: u32, p: f64, r: f64) {
    number.clear();
    let _ = write!(number, "{s},{a},{n},");
    push_python_float(number, p);
    number.push(',');
    push_python_float(number, r);
    number.push('\n');
    out.extend_from_slice(number.as_bytes());
}

/// Appends `x` as Python's `repr(float)` writes it: the shortest text that reads back to the
/// same double, positional for `1e-4 ≤ |x| < 1e16` (with `.0` for integers), otherwise
/// `d.ddde±XX` with at least two exponent digits.
fn push_python_float(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str(if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        });
        return;
    }
    let magnitude = x.abs();
    if magnitude == 0.0 || (1e-4..1e16).contains(&magnitude) {
        let start = out.len();
        let _ = write!(out, "{x}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
        return;
    }
    // Rust's `{:e}` has the same shortest digits: `2.5e-5`, `1e16`.
    let start = out.len();
    let _ = write!(out, "{x:e}");
    let e_at = start + out[start..].find('e').expect("exponent form");
    let exponent: i32 = out[e_at + 1..].parse().expect("an exponent");
    out.truncate(e_at);
    let _ = write!(
        out,
        "e{}{:02}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    );
}

#[cfg(test)]
mod tests {
    use super::push_python_float;

    fn repr(x: f64) -> String {
        let mut s = String::new();
        push_python_float(&mut s, x);
        s
    }

    #[test]
    fn floats_print_as_python_repr() {
        for (x, text) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (4.0, "4.0"),
            (-1.0, "-1.0"),
            (0.1, "0.1"),
            (0.25782429734140166, "0.25782429734140166"),
            (2.3420363969652475e-05, "2.3420363969652475e-05"),
            (1e-05, "1e-05"),
            (0.0001, "0.0001"),
            (0.00012, "0.00012"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (1e-300, "1e-300"),
            (123456789012345.0, "123456789012345.0"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(repr(x), text, "{x:?}");
        }
    }
}
