//! The worked examples of the digest of Çetinkaya et al. (2025), `or-01-smtt-heuristics.md`
//! §9.1–9.2, each checked against brute force over all orders.

mod common;

use common::brute_force;
use decide_sched::{Instance, Method, SolveOptions, rules, solve};

#[test]
fn six_jobs_mdd_144_mddc_141_optimal() {
    let instance =
        Instance::from_processing_and_due(&[10, 11, 10, 10, 11, 10], &[15, 11, 13, 11, 12, 11])
            .unwrap();
    assert_eq!(brute_force(&instance), 141);
    assert_eq!(rules::mdd(&instance), [1, 0, 2, 3, 5, 4]);
    assert_eq!(instance.objective(&rules::mdd(&instance)), 144);
    assert_eq!(rules::mddc(&instance), [3, 5, 2, 0, 1, 4]);
    assert_eq!(instance.objective(&rules::mddc(&instance)), 141);
    assert_eq!(rules::eddc(&instance), [3, 5, 2, 0, 1, 4]);
    let options = SolveOptions::default();
    let mddc = solve(&instance, Method::Mddc, &options);
    assert_eq!(mddc.sequence, [3, 5, 2, 0, 1, 4]);
    assert_eq!(mddc.objective, 141);
    let exact = solve(&instance, Method::Exact, &options);
    assert_eq!(exact.objective, 141);
    assert!(exact.proven_optimal);
    assert_eq!(exact.lower_bound, 141);
    assert!(instance.is_permutation(&exact.sequence));
    assert_eq!(instance.objective(&exact.sequence), 141);
}

#[test]
fn eight_jobs_opt_34_edd_35_mdd_34_mddc_34() {
    let instance =
        Instance::from_processing_and_due(&[3, 5, 2, 7, 4, 6, 1, 8], &[10, 6, 4, 20, 9, 15, 3, 25])
            .unwrap();
    assert_eq!(brute_force(&instance), 34);
    let options = SolveOptions::default();
    assert_eq!(solve(&instance, Method::Edd, &options).objective, 35);
    assert_eq!(solve(&instance, Method::Mdd, &options).objective, 34);
    assert_eq!(solve(&instance, Method::Mddc, &options).objective, 34);
    let exact = solve(&instance, Method::Exact, &options);
    assert_eq!((exact.objective, exact.lower_bound), (34, 34));
    assert_eq!(exact.status, decide_sched::Status::Optimal);
}

/// `heuristic` on an instance small enough for the subset DP stops as soon as it reaches the
/// optimum and says so, instead of spending its whole time limit (1 s by default).
#[test]
fn heuristic_stops_at_a_proven_optimum_on_small_instances() {
    let instance =
        Instance::from_processing_and_due(&[10, 11, 10, 10, 11, 10], &[15, 11, 13, 11, 12, 11])
            .unwrap();
    let options = SolveOptions {
        time_limit: Some(30.0),
        ..SolveOptions::default()
    };
    let found = solve(&instance, Method::Heuristic, &options);
    assert_eq!(found.objective, brute_force(&instance));
    assert!(found.proven_optimal);
    assert_eq!(found.lower_bound, 141);
    assert!(found.seconds < 5.0, "{found:?}");
}
