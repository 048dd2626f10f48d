//! Sweep throughput against the machine's streaming memory bandwidth.
//!
//! ```text
//! cargo bench -p decide-solve --bench sweep            # N = 10^6, A = 4, B = 5, seed 1
//! DECIDE_BENCH_STATES=100000 DECIDE_BENCH_REPS=20 cargo bench -p decide-solve --bench sweep
//! ```
//!
//! Measures, on the splitmix-sparse random model of `shared/data/mdp/README.md` (rewards per
//! pair, as `decide generate --rewards expected` writes it):
//!
//! * a STREAM-like triad `a = b + s·c` over three 64 MiB arrays, 1 and 2 threads (the best of
//!   the repetitions, counting 24 bytes per element as STREAM does);
//! * a Jacobi Bellman backup (1 and 2 threads), a `T_π` sweep, a Gauss–Seidel sweep (median
//!   and best of the repetitions), each as transitions per second, the bytes it must stream
//!   at least (`next` u32 + `probability` f64 per transition, offsets and expected reward per
//!   pair, pair offset, old value, new value and policy per state), and that rate as a
//!   fraction of the triad bandwidth with the same thread count.
//!
//! The last line is one JSON object with every figure, for `scripts/bench-compare.py`.
//! Not a test: run by hand or by the benchmark script.

use decide_core::Sense;
use decide_core::generate::{SplitMixSparse, compile};
use decide_core::large_array::LargeArray;
use decide_solve::bellman::{NO_PAIR, backup, gauss_seidel_sweep, policy_backup};
use rayon::prelude::*;
use std::hint::black_box;
use std::time::Instant;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Median and minimum of `reps` timings of `f`, in seconds.
fn time(reps: usize, mut f: impl FnMut()) -> (f64, f64) {
    f(); // warm up: page faults, caches
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[0])
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("threads")
}

/// STREAM triad bandwidth in bytes per second (best of `reps`).
fn triad(threads: usize, reps: usize) -> f64 {
    let n = 8 << 20; // 8 Mi f64 = 64 MiB per array
    let mut a = vec![0.0f64; n];
    let b = vec![1.0f64; n];
    let c = vec![2.0f64; n];
    let s = 3.0;
    let pool = pool(threads);
    let (_, best) = time(reps, || {
        pool.install(|| {
            a.par_chunks_mut(1 << 16)
                .zip(b.par_chunks(1 << 16))
                .zip(c.par_chunks(1 << 16))
                .for_each(|((a, b), c)| {
                    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                        *a = b + s * c;
                    }
                })
        });
        black_box(&a);
    });
    (24 * n) as f64 / best
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let n_states: u32 = env_or("DECIDE_BENCH_STATES", 1_000_000);
    let reps: usize = env_or("DECIDE_BENCH_REPS", 10);
    let generator = SplitMixSparse {
        n_states,
        n_actions: 4,
        n_successors: 5,
        seed: 1,
    };
    let mdp = compile(&generator, false).expect("valid model");
    let (n, p, t) = (mdp.n_states(), mdp.n_pairs(), mdp.n_transitions());
    println!("model: random N={n} A=4 B=5 seed 1: {p} pairs, {t} transitions");

    let triad1 = triad(1, reps);
    let triad2 = triad(2, reps);
    println!(
        "triad bandwidth: 1 thread {:.2} GB/s, 2 threads {:.2} GB/s",
        triad1 / 1e9,
        triad2 / 1e9
    );

    let discount = 0.99;
    // Value vectors in huge-page memory, as the solvers keep them.
    let mut values = LargeArray::<f64>::zeroed(n);
    for (s, v) in values.iter_mut().enumerate() {
        *v = (s % 97) as f64;
    }
    let mut out = LargeArray::<f64>::zeroed(n);
    let mut policy = vec![NO_PAIR; n];
    // Bytes a backup must stream: 12 per transition, 16 per pair, 32 per state.
    let backup_bytes = (12 * t + 16 * p + 32 * n) as f64;
    let mut results = Vec::new();
    let mut report = |name: &str, threads: usize, (median, best): (f64, f64), bytes: f64| {
        let bandwidth = if threads == 1 { triad1 } else { triad2 };
        let fraction = bytes / median / bandwidth;
        println!(
            "{name:<24} threads {threads}: median {:8.2} ms, best {:8.2} ms, {:6.1} M transitions/s, {:5.2} GB/s = {:4.0}% of triad",
            median * 1e3,
            best * 1e3,
            t as f64 / median / 1e6,
            bytes / median / 1e9,
            100.0 * fraction
        );
        results.push(format!(
            "{{\"kernel\":\"{name}\",\"threads\":{threads},\"median_s\":{median},\"best_s\":{best},\"bytes\":{bytes},\"bandwidth_fraction\":{fraction}}}"
        ));
    };
    for threads in [1usize, 2] {
        let pool = pool(threads);
        let timing = time(reps, || {
            pool.install(|| {
                black_box(backup(
                    &mdp,
                    Sense::Maximize,
                    discount,
                    &values,
                    &mut out,
                    &mut policy,
                    None,
                ));
            })
        });
        report("jacobi_backup", threads, timing, backup_bytes);
    }
    // A T_π sweep touches one pair per state: its outcomes, and the same per-state arrays.
    let chosen: Vec<usize> = (0..n).map(|s| mdp.csr().state_pairs[s] + s % 4).collect();
    let policy_bytes = (12 * t / 4 + 16 * n + 32 * n) as f64;
    for threads in [1usize, 2] {
        let pool = pool(threads);
        let timing = time(reps, || {
            pool.install(|| {
                black_box(policy_backup(&mdp, discount, &chosen, &values, &mut out));
            })
        });
        report("policy_backup", threads, timing, policy_bytes);
    }
    let mut gs_values = values.clone();
    let timing = time(reps, || {
        black_box(gauss_seidel_sweep(
            &mdp,
            Sense::Maximize,
            discount,
            &mut gs_values,
        ));
    });
    report("gauss_seidel", 1, timing, backup_bytes - (16 * n) as f64);
    println!(
        "{{\"states\":{n},\"pairs\":{p},\"transitions\":{t},\"triad_bytes_per_s\":{{\"1\":{triad1},\"2\":{triad2}}},\"kernels\":[{}]}}",
        results.join(",")
    );
}
