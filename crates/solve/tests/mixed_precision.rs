//! Models held with `f32` probabilities, certified against the exact ones
//! (`decide_solve::mixed_precision`): the certified bounds must contain the reference `V*` of
//! every case of `testdata/mdp` (pymdptoolbox's exact policy iteration), and a source whose
//! outcomes differ from the model is an error, never a certificate.

use decide_core::generate::{Gridworld, SplitMixSparse, compile};
use decide_core::model::OutcomeSource;
use decide_core::{Interrupt, Limits, Objective, Sense, Status, TabularMdp};
use decide_io::{ReadOptions, read_model};
use decide_solve::mixed_precision::solve_mixed_precision;
use decide_solve::{Algorithm, Problem, SolveError, solve};
use std::path::PathBuf;

/// The exact outcomes of a model in memory, served like a file read back in blocks.
struct MemoryOutcomes {
    next: Vec<u32>,
    probability: Vec<f64>,
    position: usize,
    reads: usize,
}

impl MemoryOutcomes {
    fn of(mdp: &TabularMdp) -> Self {
        let csr = mdp.csr();
        MemoryOutcomes {
            next: csr.next.to_vec(),
            probability: csr.probability.exact().expect("an exact model").to_vec(),
            position: 0,
            reads: 0,
        }
    }
}

impl OutcomeSource for MemoryOutcomes {
    fn rewind(&mut self) -> std::io::Result<()> {
        self.position = 0;
        Ok(())
    }
    fn read(&mut self, next: &mut [u32], probability: &mut [f64]) -> std::io::Result<()> {
        let range = self.position..self.position + next.len();
        if range.end > self.next.len() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "past the end",
            ));
        }
        next.copy_from_slice(&self.next[range.clone()]);
        probability.copy_from_slice(&self.probability[range]);
        self.position += next.len();
        self.reads += 1;
        Ok(())
    }
}

fn limits(tolerance: f64) -> Limits {
    Limits {
        tolerance,
        threads: 2,
        ..Limits::default()
    }
}

fn reference_case(case: &str) -> (TabularMdp, Vec<f64>, f64) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/mdp");
    let model = read_model(
        &dir.join(format!("{case}.transitions.csv")),
        &ReadOptions::default(),
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.join(format!("{case}.reference.json"))).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = reference["V"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    (model.mdp, v, model.discount.unwrap())
}

const CASES: [&str; 5] = [
    "forest_S3",
    "forest_S1000",
    "frozenlake4x4_slippery",
    "frozenlake8x8_slippery",
    "random_N2000_A4_B5_seed42",
];

#[test]
fn certified_bounds_contain_the_reference_values_of_every_case() {
    for case in CASES {
        let (exact, reference, discount) = reference_case(case);
        let rounded = exact.clone().with_f32_probabilities();
        assert!(!rounded.csr().probability.is_exact());
        let problem = Problem::new(
            &rounded,
            Objective::discounted(Sense::Maximize, discount).unwrap(),
        );
        for algorithm in [
            Algorithm::Auto,
            Algorithm::ValueIteration,
            Algorithm::PolicyIteration,
        ] {
            let mut source = MemoryOutcomes::of(&exact);
            let solution = solve_mixed_precision(
                &problem,
                algorithm,
                &limits(1e-6),
                &mut (),
                &Interrupt::new(),
                &mut source,
            )
            .unwrap();
            let report = &solution.report;
            assert_eq!(report.status, Status::Converged, "{case} {algorithm:?}");
            assert!(report.certificate.policy_gap <= 1e-6, "{case}");
            assert!(source.reads > 0, "{case}: the exact outcomes were read");
            assert!(report.notes.iter().any(|n| n.contains("f32")), "{case}");
            for (s, &want) in reference.iter().enumerate() {
                let slack = 1e-9 * (1.0 + want.abs());
                assert!(
                    solution.lower[s] - slack <= want && want <= solution.upper[s] + slack,
                    "{case} {algorithm:?} state {s}: {want} outside [{}, {}]",
                    solution.lower[s],
                    solution.upper[s]
                );
                assert!(
                    (solution.values[s] - want).abs() <= 1e-6,
                    "{case} state {s}"
                );
            }
        }
    }
}

/// A tolerance below what the rounded model itself can reach needs the defect correction:
/// the exact residual, solved for on the rounded model, brings the values to the exact
/// model's optimum, which the rounded model alone misses.
#[test]
fn a_tight_tolerance_is_reached_by_correction_against_the_exact_outcomes() {
    let exact = compile(
        &Gridworld {
            width: 30,
            height: 20,
            slip: 0.3,
        },
        false,
    )
    .unwrap();
    let objective = Objective::discounted(Sense::Maximize, 0.999).unwrap();
    let truth = solve(
        &Problem::new(&exact, objective),
        Algorithm::PolicyIteration,
        &limits(1e-10),
    )
    .unwrap();
    let rounded = exact.clone().with_f32_probabilities();
    let problem = Problem::new(&rounded, objective);
    // The rounded model's own optimum is off by more than the tolerance asked below.
    let alone = solve(&problem, Algorithm::PolicyIteration, &limits(1e-10)).unwrap();
    let off = alone
        .values
        .iter()
        .zip(&truth.values)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    assert!(off > 1e-8, "rounding moves the optimum by {off:e}");
    let mut source = MemoryOutcomes::of(&exact);
    let solution = solve_mixed_precision(
        &problem,
        Algorithm::Auto,
        &limits(1e-8),
        &mut (),
        &Interrupt::new(),
        &mut source,
    )
    .unwrap();
    assert_eq!(solution.report.status, Status::Converged);
    assert!(solution.report.certificate.policy_gap <= 1e-8);
    assert!(
        solution.report.notes[0].contains("correction sweep"),
        "{:?}",
        solution.report.notes
    );
    for s in 0..exact.n_states() {
        assert!(
            (solution.values[s] - truth.values[s]).abs() <= 1e-8,
            "state {s}"
        );
        assert!(solution.lower[s] <= truth.values[s] + 1e-10);
        assert!(truth.values[s] <= solution.upper[s] + 1e-10);
    }
}

#[test]
fn outcomes_that_differ_from_the_model_are_an_error() {
    let exact = compile(
        &SplitMixSparse {
            n_states: 3000,
            n_actions: 3,
            n_successors: 4,
            seed: 9,
        },
        false,
    )
    .unwrap();
    let rounded = exact.clone().with_f32_probabilities();
    let problem = Problem::new(
        &rounded,
        Objective::discounted(Sense::Maximize, 0.95).unwrap(),
    );
    let run = |source: &mut MemoryOutcomes| {
        solve_mixed_precision(
            &problem,
            Algorithm::Auto,
            &limits(1e-6),
            &mut (),
            &Interrupt::new(),
            source,
        )
    };
    // A probability changed (the file rewritten during the solve).
    let mut changed = MemoryOutcomes::of(&exact);
    changed.probability[20_000] += 1e-4;
    match run(&mut changed) {
        Err(SolveError::ExactOutcomes(message)) => {
            assert!(message.contains("outcome 20000"), "{message}")
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // A next state changed.
    let mut moved = MemoryOutcomes::of(&exact);
    moved.next[5] = (moved.next[5] + 1) % 3000;
    assert!(matches!(run(&mut moved), Err(SolveError::ExactOutcomes(_))));
    // Fewer outcomes than the model (a truncated file).
    let mut short = MemoryOutcomes::of(&exact);
    short.next.truncate(1000);
    short.probability.truncate(1000);
    match run(&mut short) {
        Err(SolveError::ExactOutcomes(message)) => assert!(message.contains("past the end")),
        other => panic!("expected an error, got {other:?}"),
    }
    // The exact source itself: the same answer as the exact model, within the tolerances.
    let mut same = MemoryOutcomes::of(&exact);
    let mixed = run(&mut same).unwrap();
    let direct = solve(
        &Problem::new(&exact, problem.objective),
        Algorithm::Auto,
        &limits(1e-9),
    )
    .unwrap();
    for (a, b) in mixed.values.iter().zip(&direct.values) {
        assert!((a - b).abs() <= 1e-6);
    }
}

#[test]
fn a_limit_keeps_its_status_with_a_valid_certificate() {
    let (exact, reference, discount) = reference_case("random_N2000_A4_B5_seed42");
    let rounded = exact.clone().with_f32_probabilities();
    let problem = Problem::new(
        &rounded,
        Objective::discounted(Sense::Maximize, discount).unwrap(),
    );
    let mut source = MemoryOutcomes::of(&exact);
    let solution = solve_mixed_precision(
        &problem,
        Algorithm::ValueIteration,
        &Limits {
            max_iterations: Some(3),
            ..limits(1e-9)
        },
        &mut (),
        &Interrupt::new(),
        &mut source,
    )
    .unwrap();
    assert_eq!(solution.report.status, Status::IterationLimit);
    assert!(solution.report.certificate.policy_gap > 1e-9);
    for (s, &want) in reference.iter().enumerate() {
        assert!(solution.lower[s] <= want + 1e-9 && want <= solution.upper[s] + 1e-9);
    }
}

#[test]
fn an_exact_model_is_solved_as_usual() {
    let (exact, reference, discount) = reference_case("forest_S3");
    let problem = Problem::new(
        &exact,
        Objective::discounted(Sense::Maximize, discount).unwrap(),
    );
    let mut source = MemoryOutcomes::of(&exact);
    let solution = solve_mixed_precision(
        &problem,
        Algorithm::Auto,
        &limits(1e-9),
        &mut (),
        &Interrupt::new(),
        &mut source,
    )
    .unwrap();
    assert_eq!(source.reads, 0, "nothing to read back");
    assert!(solution.report.notes.is_empty());
    for (a, b) in solution.values.iter().zip(&reference) {
        assert!((a - b).abs() <= 1e-9);
    }
}
