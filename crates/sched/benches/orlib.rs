//! The OR-Library sets wt40 and wt50 in full: the exact method on every instance, and
//! iterated dynasearch against the published values.
//!
//! ```text
//! cargo bench -p decide-sched --bench orlib [-- --time-limit S] [--sets 40,50] [--verbose]
//! ```
//!
//! Reads `testdata/sched/wt{n}.txt` and `wtopt{n}.txt` (see their PROVENANCE.md). Prints one
//! markdown row per set; with `--verbose`, one line per instance with the SSDP counters.

use decide_sched::exact::ssdp::{self, SsdpOptions};
use decide_sched::local_search::{IteratedDynasearchOptions, iterated_dynasearch};
use decide_sched::read::parse_orlibrary;
use decide_sched::{Instance, Method, SolveOptions, Status, rules, solve};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/sched")
        .join(name)
}

fn load(n: usize) -> Vec<(Instance, i64)> {
    let path = testdata(&format!("wt{n}.txt"));
    let text = std::fs::read_to_string(&path).expect("testdata/sched/wtN.txt");
    let instances = parse_orlibrary(&text, &path, n).expect("a valid OR-Library file");
    let values = std::fs::read_to_string(testdata(&format!("wtopt{n}.txt"))).unwrap();
    instances
        .into_iter()
        .map(|r| r.instance)
        .zip(values.split_whitespace().map(|v| v.parse::<i64>().unwrap()))
        .collect()
}

/// Instances (1-based) whose value OR-Library lists as best known, not proven.
fn not_proven_by_orlib(n: usize) -> &'static [usize] {
    match n {
        40 => &[19],
        50 => &[11, 12, 14, 19, 36, 44, 66, 87, 88, 111],
        _ => &[],
    }
}

fn main() {
    let mut time_limit = 600.0;
    let mut sets = vec![40usize, 50];
    let mut verbose = false;
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // in the dev profile, so then only the first two instances of each set run (a smoke test).
    let smoke = !std::env::args().any(|a| a == "--bench");
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time-limit" => {
                time_limit = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--time-limit S")
            }
            "--sets" => {
                sets = it
                    .next()
                    .expect("--sets 40,50")
                    .split(',')
                    .map(|v| v.parse().expect("a set size"))
                    .collect()
            }
            "--verbose" => verbose = true,
            _ => {}
        }
    }
    let mut rows = Vec::new();
    for n in sets {
        let mut set = load(n);
        if smoke {
            set.truncate(2);
        }
        let mut seconds: Vec<f64> = Vec::new();
        let mut results: Vec<(i64, Status)> = Vec::new();
        let (mut proven, mut equal, mut below) = (0, 0, 0);
        for (index, (instance, reference)) in set.iter().enumerate() {
            let solution = solve(
                instance,
                Method::Exact,
                &SolveOptions {
                    time_limit: Some(time_limit),
                    ..SolveOptions::default()
                },
            );
            assert!(instance.is_permutation(&solution.sequence));
            assert!(
                solution.lower_bound <= *reference,
                "wt{n} #{}: bound above the reference",
                index + 1
            );
            seconds.push(solution.seconds);
            results.push((solution.objective, solution.status));
            proven += usize::from(solution.status == Status::Optimal);
            equal += usize::from(solution.objective == *reference);
            below += usize::from(solution.objective < *reference);
            if verbose {
                // The SSDP counters, from a second run of its stages alone.
                let stats =
                    ssdp::solve(instance, &solution.sequence, &SsdpOptions::default()).stats;
                println!(
                    "wt{n} #{:3}: reference {:7} found {:7} bound {:7} {:>10} {:6.2} s | \
                     L1 {:.1} L2 {:.1} arcs {} → {} → {} | modifier runs {} ({} jobs, {} states)",
                    index + 1,
                    reference,
                    solution.objective,
                    solution.lower_bound,
                    solution.status.as_str(),
                    solution.seconds,
                    stats.node_bound,
                    stats.arc_bound,
                    stats.arcs_initial,
                    stats.arcs_after_nodes,
                    stats.arcs_after_arcs,
                    stats.modifier_iterations,
                    stats.modifiers,
                    stats.max_states
                );
            }
        }
        for &id in not_proven_by_orlib(n).iter().filter(|&&id| id <= set.len()) {
            let (objective, status) = results[id - 1];
            println!(
                "wt{n} #{id}: OR-Library lists {} as best known; decide finds {objective}, {status}",
                set[id - 1].1
            );
        }
        // Iterated dynasearch from EDD, stopped when it reaches the published value.
        let (mut hits, mut hit_seconds, mut worst_hit) = (0, 0.0, 0.0f64);
        let clock = Instant::now();
        for (index, (instance, reference)) in set.iter().enumerate() {
            let start = Instant::now();
            let found = iterated_dynasearch(
                instance,
                &rules::edd(instance),
                &IteratedDynasearchOptions {
                    time_limit: Some(1.0),
                    max_kicks: None,
                    target: Some(*reference),
                    seed: index as u64,
                },
            );
            let took = start.elapsed().as_secs_f64();
            if found.objective == *reference {
                hits += 1;
                hit_seconds += took;
                worst_hit = worst_hit.max(took);
            }
        }
        let search_total = clock.elapsed().as_secs_f64();
        let mut sorted = seconds.clone();
        sorted.sort_by(f64::total_cmp);
        let total: f64 = seconds.iter().sum();
        rows.push(format!(
            "| wt{n} | {} | {proven} | {equal} | {below} | {total:.1} | {:.2} | {:.2} | {:.2} | {hits} ({:.1}%) | {:.3} | {worst_hit:.2} | {search_total:.1} |",
            set.len(),
            total / set.len() as f64,
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1],
            100.0 * hits as f64 / set.len() as f64,
            hit_seconds / hits.max(1) as f64,
        ));
    }
    println!();
    println!(
        "| set | instances | proven optimal | = published | below published | exact total s | mean s | median s | max s | dynasearch hits ≤ 1 s | mean s to hit | max s to hit | dynasearch total s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}
