//! One Jacobi and one Gauss–Seidel sweep on the splitmix-sparse random model of
//! `shared/data/mdp/README.md` (N = 10^6, A = 4, B = 5 by default; `DECIDE_BENCH_STATES`
//! overrides N), reported as transitions per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use decide_core::Sense;
use decide_core::generate::SplitMixSparse;
use decide_solve::bellman::{NO_PAIR, backup, gauss_seidel_sweep};
use std::hint::black_box;

fn sweeps(c: &mut Criterion) {
    let n_states: u32 = std::env::var("DECIDE_BENCH_STATES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let generator = SplitMixSparse {
        n_states,
        n_actions: 4,
        n_successors: 5,
        seed: 1,
    };
    let mdp = generator
        .builder()
        .expect("valid parameters")
        .build()
        .expect("valid model")
        .0;
    let n = mdp.n_states();
    let discount = 0.99;
    let mut group = c.benchmark_group(format!("sweep/random_N{n_states}_A4_B5"));
    group.throughput(Throughput::Elements(mdp.n_transitions() as u64));
    group.sample_size(10);

    let values: Vec<f64> = (0..n).map(|s| (s % 97) as f64).collect();
    let mut out = vec![0.0; n];
    let mut policy = vec![NO_PAIR; n];
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("threads");
        group.bench_function(format!("jacobi_threads{threads}"), |b| {
            b.iter(|| {
                pool.install(|| {
                    black_box(backup(
                        &mdp,
                        Sense::Maximize,
                        discount,
                        &values,
                        &mut out,
                        &mut policy,
                        None,
                    ))
                })
            })
        });
    }
    let mut gs_values = values.clone();
    group.bench_function("gauss_seidel", |b| {
        b.iter(|| {
            black_box(gauss_seidel_sweep(
                &mdp,
                Sense::Maximize,
                discount,
                &mut gs_values,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
