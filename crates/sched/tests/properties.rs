//! Property tests of the digest (§9.3–9.4) against exact oracles: brute force over all orders
//! and the subset DP, on Potts–Van Wassenhove instances of every class, plus variants with
//! weights, many ties and negative due dates.

mod common;

use common::brute_force;
use decide_sched::exact::{lawler, ssdp, subset_dp};
use decide_sched::generate::potts_van_wassenhove;
use decide_sched::local_search::{self, IteratedDynasearchOptions};
use decide_sched::rng::SplitMix64;
use decide_sched::{Instance, Job, Method, SolveOptions, rules, solve};

/// The variants every class is tested in.
#[derive(Clone, Copy, Debug)]
enum Variant {
    /// As generated (unit weights, due dates clipped at 0).
    Plain,
    /// Weights drawn from [1, 10].
    Weighted,
    /// Processing times 1..=4 and due dates on a coarse grid: many ties of every kind.
    Ties,
    /// Due dates shifted down by half the schedule length: many negative due dates.
    Negative,
}

fn instance(n: usize, rdd: usize, tf: usize, rep: usize, variant: Variant) -> Instance {
    let generated = potts_van_wassenhove(n, rdd, tf, rep, matches!(variant, Variant::Weighted));
    let base = generated.instance;
    let shift = base.total_processing_time() / 2;
    let jobs: Vec<Job> = base
        .jobs()
        .iter()
        .map(|j| match variant {
            Variant::Plain | Variant::Weighted => *j,
            Variant::Ties => Job::new(j.processing_time % 4 + 1, j.due_date / 60 * 3, 1),
            Variant::Negative => Job::new(j.processing_time, j.due_date - shift, j.weight),
        })
        .collect();
    Instance::try_new(jobs).unwrap()
}

/// Every (n, class, rep, variant) used below: 25 classes, small n.
fn cases(sizes: &[usize], reps: usize) -> Vec<(String, Instance)> {
    let mut out = Vec::new();
    for &n in sizes {
        for rdd in 0..5 {
            for tf in 0..5 {
                for rep in 0..reps {
                    for variant in [
                        Variant::Plain,
                        Variant::Weighted,
                        Variant::Ties,
                        Variant::Negative,
                    ] {
                        let name = format!("n{n} rdd{rdd} tf{tf} rep{rep} {variant:?}");
                        out.push((name, instance(n, rdd, tf, rep, variant)));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn subset_dp_equals_brute_force() {
    for (name, instance) in cases(&[1, 2, 5, 7], 1) {
        let (sequence, cost) = subset_dp::solve(&instance).unwrap();
        assert!(instance.is_permutation(&sequence), "{name}");
        assert_eq!(instance.objective(&sequence), cost, "{name}");
        assert_eq!(cost, brute_force(&instance), "{name}");
    }
}

#[test]
fn every_heuristic_returns_a_permutation_no_better_than_the_optimum() {
    let options = SolveOptions {
        time_limit: Some(0.01),
        ..SolveOptions::default()
    };
    for (name, instance) in cases(&[3, 8, 12], 1) {
        let (_, optimum) = subset_dp::solve(&instance).unwrap();
        for method in Method::ALL {
            let solution = solve(&instance, method, &options);
            assert!(
                instance.is_permutation(&solution.sequence),
                "{name} {method}"
            );
            assert_eq!(
                instance.objective(&solution.sequence),
                solution.objective,
                "{name} {method}"
            );
            assert!(solution.objective >= optimum, "{name} {method}");
            assert!(solution.lower_bound <= optimum, "{name} {method}");
            if method == Method::Exact {
                assert_eq!(solution.objective, optimum, "{name}");
                assert!(solution.proven_optimal, "{name}");
            }
        }
        for extra in [
            rules::panneerselvam(&instance),
            rules::eddc_with(&instance, rules::EddcInitialOrder::DueDateFirst),
        ] {
            assert!(instance.is_permutation(&extra), "{name}");
        }
    }
}

#[test]
fn augmentation_and_local_search_never_worsen() {
    for (name, instance) in cases(&[6, 12, 20], 1) {
        let mdd = instance.objective(&rules::mdd(&instance));
        let mddc = instance.objective(&rules::mddc(&instance));
        assert!(
            instance.objective(&rules::augmented_mdd(&instance)) <= mdd,
            "{name}"
        );
        assert!(
            instance.objective(&rules::augmented_mddc(&instance)) <= mddc,
            "{name}"
        );
        for start in [
            rules::edd(&instance),
            rules::spt(&instance),
            rules::mdd(&instance),
        ] {
            let before = instance.objective(&start);
            let mut by_interchange = start.clone();
            let after = local_search::adjacent_interchange(&instance, &mut by_interchange);
            assert!(
                after <= before && instance.is_permutation(&by_interchange),
                "{name}"
            );
            assert_eq!(instance.objective(&by_interchange), after, "{name}");
            let mut by_dynasearch = start.clone();
            let after = local_search::dynasearch(&instance, &mut by_dynasearch);
            assert!(
                after <= before && instance.is_permutation(&by_dynasearch),
                "{name}"
            );
            assert_eq!(instance.objective(&by_dynasearch), after, "{name}");
            // A dynasearch local minimum admits no improving single swap of adjacent jobs.
            let mut copy = by_dynasearch.clone();
            assert_eq!(
                local_search::adjacent_interchange(&instance, &mut copy),
                after,
                "{name}"
            );
        }
    }
}

/// Lawler's decomposition is valid for equal weights only (a common weight w scales every
/// cost by w, so the unweighted optimal order stays optimal). It must answer exactly those
/// instances, with the subset DP's optimum, and refuse every instance with unequal weights,
/// for which the decomposition theorem does not hold.
#[test]
fn lawler_decomposition_equals_subset_dp() {
    let (mut solved, mut common_weight_not_one, mut refused) = (0, 0, 0);
    for (name, instance) in cases(&[4, 8, 12], 2) {
        let (_, optimum) = subset_dp::solve(&instance).unwrap();
        let weight = instance.job(0).weight;
        let equal_weights = instance.jobs().iter().all(|j| j.weight == weight);
        match lawler::solve(&instance, None) {
            Some((sequence, cost)) => {
                assert!(equal_weights, "{name}: Lawler answered unequal weights");
                assert!(instance.is_permutation(&sequence), "{name}");
                assert_eq!(instance.objective(&sequence), cost, "{name}");
                assert_eq!(cost, optimum, "{name}");
                solved += 1;
                common_weight_not_one += usize::from(weight != 1);
            }
            None => {
                assert!(!equal_weights, "{name}: Lawler refused equal weights");
                refused += 1;
            }
        }
    }
    // The weighted variant draws weights from [1, 10]: with 4 jobs they are sometimes all
    // equal (and not 1), which exercises the scaling; otherwise Lawler must refuse.
    assert!(common_weight_not_one > 0 && refused > 0 && solved > 400);
}

/// A weighted instance where applying Lawler's decomposition (on the jobs' p and d alone)
/// would be wrong: checks the refusal is needed, not just cautious.
#[test]
fn lawler_refuses_weighted_instances_where_the_theorem_fails() {
    // Both jobs are late whatever happens (d = 0). Unweighted, the shorter job 0 goes first
    // (cost 2 + 5 = 7 against 3 + 5 = 8); with weights 1 and 10 the heavy job 1 must go first
    // (30 + 5 = 35 against 2 + 50 = 52).
    let instance = Instance::try_new(vec![Job::new(2, 0, 1), Job::new(3, 0, 10)]).unwrap();
    let unweighted = instance.for_objective(decide_sched::Objective::Tardiness);
    let (unweighted_order, _) = lawler::solve(&unweighted, None).unwrap();
    let (weighted_order, weighted_optimum) = subset_dp::solve(&instance).unwrap();
    assert_eq!(weighted_optimum, brute_force(&instance));
    // The unweighted optimum's order is worse for the weighted problem.
    assert!(instance.objective(&unweighted_order) > weighted_optimum);
    assert_eq!(weighted_order, vec![1, 0]);
    assert_eq!(lawler::solve(&instance, None), None);
}

#[test]
fn ssdp_equals_subset_dp_from_a_poor_incumbent() {
    for (name, instance) in cases(&[1, 5, 10, 13], 1) {
        let (_, optimum) = subset_dp::solve(&instance).unwrap();
        // SPT is usually far from optimal, so elimination starts weak and all three stages run.
        let outcome = ssdp::solve(
            &instance,
            &rules::spt(&instance),
            &ssdp::SsdpOptions::default(),
        );
        assert!(outcome.proven_optimal, "{name}");
        assert_eq!(outcome.objective, optimum, "{name}");
        assert_eq!(outcome.lower_bound, optimum, "{name}");
        assert!(instance.is_permutation(&outcome.sequence), "{name}");
        assert_eq!(instance.objective(&outcome.sequence), optimum, "{name}");
    }
}

#[test]
fn stopped_exact_runs_report_valid_bounds() {
    let mut stopped = 0;
    for (name, instance) in cases(&[14], 1) {
        let (_, optimum) = subset_dp::solve(&instance).unwrap();
        let outcome = ssdp::solve(
            &instance,
            &rules::spt(&instance),
            &ssdp::SsdpOptions {
                time_limit: Some(0.0),
                ..Default::default()
            },
        );
        assert!(outcome.lower_bound <= optimum, "{name}");
        assert!(outcome.objective >= optimum, "{name}");
        if !outcome.proven_optimal {
            stopped += 1;
            assert_eq!(outcome.stop, Some(ssdp::StopReason::TimeLimit), "{name}");
        }
    }
    assert!(stopped > 0, "a zero time limit stops some runs");
    // Through `solve`, a stopped exact run is marked as such (n > 16 skips the subset DP).
    let instance = instance(40, 0, 2, 0, Variant::Weighted);
    let solution = solve(
        &instance,
        Method::Exact,
        &SolveOptions {
            time_limit: Some(0.0),
            ..SolveOptions::default()
        },
    );
    assert_eq!(solution.status, decide_sched::Status::TimeLimit);
    assert!(!solution.proven_optimal && solution.lower_bound < solution.objective);
}

#[test]
fn iterated_dynasearch_reaches_small_optima() {
    let mut rng = SplitMix64::new(7);
    for (name, instance) in cases(&[9], 1) {
        let (_, optimum) = subset_dp::solve(&instance).unwrap();
        let start = rules::edd(&instance);
        let found = local_search::iterated_dynasearch(
            &instance,
            &start,
            &IteratedDynasearchOptions {
                time_limit: Some(1.0),
                max_kicks: None,
                target: Some(optimum),
                seed: rng.next_u64(),
            },
        );
        assert_eq!(found.objective, optimum, "{name}");
        assert!(instance.is_permutation(&found.sequence), "{name}");
    }
}

/// Digest §9.4 and the paper's claim behind it (Çetinkaya et al. 2025, Table of §8 in the
/// digest): on 800 generated n = 20 instances (RDD 0.2..1.0 × TF 0.2..0.8, 40 each, the
/// paper's design), the mean optimality gap of MDDC is below MDD's and EDDC's below EDD's.
/// Optima by Lawler's decomposition (checked against the subset DP above).
///
/// What the paper claims is a statement about *mean gaps* (averaged per instance over the
/// instances with OPT > 0), overall and per class on the hard classes; it does not claim that
/// MDDC beats MDD on most instances. It does not: MDDC wins big on the tight classes
/// (RDD 0.2, where MDD's gap is largest) and loses small on many loose ones (RDD ≥ 0.6, where
/// both are within a fraction of a percent of the optimum), so a sign count over all 800
/// instances is negative while the mean gap is lower. The paired comparison per class is
/// therefore checked where the paper reports class rows (RDD 0.2 with TF 0.6 and 0.8, its
/// hardest classes), and the paper's observation that EDDC is worse than EDD on the class
/// (RDD 0.6, TF 0.4) is checked too.
#[test]
fn challengers_beat_their_classic_rules_on_average() {
    // Per class (rdd, tf): gap sums of MDD, MDDC, EDD, EDDC; paired wins and losses of MDDC
    // against MDD and of EDDC against EDD; instances with OPT > 0.
    struct Class {
        gaps: [f64; 4],
        wins: [usize; 2],
        losses: [usize; 2],
        counted: usize,
    }
    let mut classes: Vec<((usize, usize), Class)> = Vec::new();
    for rdd in 0..5 {
        for tf in 0..4 {
            let mut class = Class {
                gaps: [0.0; 4],
                wins: [0; 2],
                losses: [0; 2],
                counted: 0,
            };
            for rep in 0..40 {
                let instance = potts_van_wassenhove(20, rdd, tf, rep, false).instance;
                let (_, optimum) = lawler::solve(&instance, None).unwrap();
                let cost = [
                    rules::mdd(&instance),
                    rules::mddc(&instance),
                    rules::edd(&instance),
                    rules::eddc(&instance),
                ]
                .map(|s| instance.objective(&s));
                assert!(cost.iter().all(|&c| c >= optimum));
                if optimum == 0 {
                    continue;
                }
                for (g, c) in class.gaps.iter_mut().zip(cost) {
                    *g += 100.0 * (c - optimum) as f64 / optimum as f64;
                }
                for (k, (challenger, classic)) in [(1, 0), (3, 2)].into_iter().enumerate() {
                    class.wins[k] += usize::from(cost[challenger] < cost[classic]);
                    class.losses[k] += usize::from(cost[challenger] > cost[classic]);
                }
                class.counted += 1;
            }
            classes.push(((rdd, tf), class));
        }
    }
    let counted: usize = classes.iter().map(|(_, c)| c.counted).sum();
    let mean = |k: usize| classes.iter().map(|(_, c)| c.gaps[k]).sum::<f64>() / counted as f64;
    let [mdd, mddc, edd, eddc] = [0, 1, 2, 3].map(mean);
    println!(
        "{counted} instances with OPT > 0: mean gap MDD {mdd:.2}% MDDC {mddc:.2}% EDD {edd:.2}% EDDC {eddc:.2}%"
    );
    for ((rdd, tf), c) in &classes {
        if c.counted > 0 {
            let m = c.gaps.map(|g| g / c.counted as f64);
            println!(
                "RDD {:.1} TF {:.1}: MDD {:.2} MDDC {:.2} (won {} lost {}) | EDD {:.2} EDDC {:.2} (won {} lost {})",
                0.2 * (*rdd + 1) as f64,
                0.2 * (*tf + 1) as f64,
                m[0],
                m[1],
                c.wins[0],
                c.losses[0],
                m[2],
                m[3],
                c.wins[1],
                c.losses[1]
            );
        }
    }
    assert!(counted > 600, "{counted} instances with a positive optimum");
    assert!(mddc < mdd, "MDDC {mddc:.2}% vs MDD {mdd:.2}%");
    assert!(eddc < edd, "EDDC {eddc:.2}% vs EDD {edd:.2}%");
    let class = |rdd: usize, tf: usize| &classes.iter().find(|(k, _)| *k == (rdd, tf)).unwrap().1;
    // The hardest classes, RDD 0.2 with TF 0.6 and 0.8 (the paper: MDD 6.00 / MDDC 2.54 and
    // 2.93 / 0.47; EDD 58.33 / EDDC 3.81 and 62.56 / 1.57): the challengers are better on
    // average and win more paired comparisons than they lose.
    for tf in [2, 3] {
        let c = class(0, tf);
        assert!(c.gaps[1] < c.gaps[0], "RDD 0.2 TF {tf}: MDDC vs MDD");
        assert!(c.gaps[3] < c.gaps[2], "RDD 0.2 TF {tf}: EDDC vs EDD");
        assert!(c.wins[0] > c.losses[0], "RDD 0.2 TF {tf}: MDDC paired");
        assert!(c.wins[1] > c.losses[1], "RDD 0.2 TF {tf}: EDDC paired");
    }
    // The paper: EDDC is worse than EDD on (RDD 0.6, TF 0.4).
    let c = class(2, 1);
    assert!(
        c.gaps[3] > c.gaps[2],
        "RDD 0.6 TF 0.4: EDDC should lose to EDD"
    );
}
