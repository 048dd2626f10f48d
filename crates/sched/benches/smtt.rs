//! Dispatching rules on generated 1||ΣT_j instances: mean optimality gap and run time.
//!
//! ```text
//! cargo bench -p decide-sched --bench smtt [-- --data DIR] [--reps-20 R] [--lawler-limit S]
//! ```
//!
//! * n = 20 and 50: the instances of decide's reference data (`DIR/smtt_n20.json` and
//!   `smtt_n50.json`, default `testdata/sched`, copied from the shared `data/sched/smtt`),
//!   rebuilt by the generator and checked
//!   against the files, plus the paper's larger design at n = 20 (RDD 0.2..1.0 × TF 0.2..0.8,
//!   `--reps-20` instances per class, default 40: 800 instances). Optima by Lawler's
//!   decomposition, compared with the reference values.
//! * n = 100, 200, 500: one instance per (RDD, TF) class (the seeds of the reference
//!   generator), run times of every rule, and gaps where Lawler's decomposition proves the
//!   optimum within `--lawler-limit` seconds (default 60).
//!
//! Gaps are 100 · (H − OPT) / OPT averaged over instances with OPT > 0 ("mean"), and
//! 100 · (ΣH − ΣOPT) / ΣOPT over the same instances ("ratio of sums"), as the digest asks.

use decide_sched::exact::lawler;
use decide_sched::generate::{GeneratedInstance, potts_van_wassenhove};
use decide_sched::{Instance, rules};
use std::path::PathBuf;
use std::time::Instant;

type Rule = (&'static str, fn(&Instance) -> Vec<usize>);

const RULES: [Rule; 10] = [
    ("EDD", rules::edd),
    ("SPT", rules::spt),
    ("MDD", rules::mdd),
    ("ATC k=2", |i| rules::atc(i, 2.0)),
    ("PSK", rules::psk),
    ("EDDC", rules::eddc),
    ("MDDC", rules::mddc),
    ("Aug-MDD", rules::augmented_mdd),
    ("Aug-MDDC", rules::augmented_mddc),
    ("Panneerselvam", rules::panneerselvam),
];

struct Args {
    data: PathBuf,
    reps_20: usize,
    lawler_limit: f64,
    /// Run without `--bench` (by `cargo test --all-targets`, in the dev profile): a smoke
    /// test with one instance per class at n = 20 and no larger n.
    smoke: bool,
}

fn args() -> Args {
    let mut args = Args {
        data: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sched"),
        reps_20: 40,
        lawler_limit: 60.0,
        smoke: !std::env::args().any(|a| a == "--bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--data" => args.data = it.next().expect("--data DIR").into(),
            "--reps-20" => {
                args.reps_20 = it.next().and_then(|v| v.parse().ok()).expect("--reps-20 R")
            }
            "--lawler-limit" => {
                args.lawler_limit = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--lawler-limit S")
            }
            _ => {} // `cargo bench` passes --bench
        }
    }
    args
}

/// One row of results: per rule, the sums needed for both gap averages and the time.
struct Tally {
    name: String,
    instances: usize,
    positive: usize,
    gap_sum: [f64; RULES.len()],
    cost_sum: [i64; RULES.len()],
    optimum_sum: i64,
    /// Per rule, the seconds of each instance.
    seconds: Vec<Vec<f64>>,
    solved: usize,
}

impl Tally {
    fn new(name: String) -> Self {
        Tally {
            name,
            instances: 0,
            positive: 0,
            gap_sum: [0.0; RULES.len()],
            cost_sum: [0; RULES.len()],
            optimum_sum: 0,
            seconds: vec![Vec::new(); RULES.len()],
            solved: 0,
        }
    }

    /// Runs every rule on `instance`; `optimum` when known.
    fn add(&mut self, instance: &Instance, optimum: Option<i64>) {
        self.instances += 1;
        let mut costs = [0i64; RULES.len()];
        for (r, (_, rule)) in RULES.iter().enumerate() {
            // Repeat fast rules so the clock sees at least a few milliseconds.
            let clock = Instant::now();
            let mut repeats = 0u32;
            let mut sequence;
            loop {
                sequence = rule(instance);
                repeats += 1;
                if clock.elapsed().as_secs_f64() > 0.002 || repeats >= 1000 {
                    break;
                }
            }
            self.seconds[r].push(clock.elapsed().as_secs_f64() / repeats as f64);
            costs[r] = instance.objective(&sequence);
        }
        let Some(optimum) = optimum else { return };
        self.solved += 1;
        if optimum == 0 {
            return;
        }
        self.positive += 1;
        self.optimum_sum += optimum;
        for r in 0..RULES.len() {
            self.gap_sum[r] += 100.0 * (costs[r] - optimum) as f64 / optimum as f64;
            self.cost_sum[r] += costs[r];
        }
    }

    fn print_gaps(&self) {
        if self.positive == 0 {
            return;
        }
        let mean: Vec<String> = (0..RULES.len())
            .map(|r| format!("{:.2}", self.gap_sum[r] / self.positive as f64))
            .collect();
        let ratio: Vec<String> = (0..RULES.len())
            .map(|r| {
                format!(
                    "{:.2}",
                    100.0 * (self.cost_sum[r] - self.optimum_sum) as f64 / self.optimum_sum as f64
                )
            })
            .collect();
        println!(
            "| {} mean gap % ({} of {} with OPT > 0) | {} |",
            self.name,
            self.positive,
            self.instances,
            mean.join(" | ")
        );
        println!("| {} ratio of sums % | {} |", self.name, ratio.join(" | "));
    }

    fn print_times(&self) {
        let times: Vec<String> = (0..RULES.len())
            .map(|r| {
                let mut s = self.seconds[r].clone();
                s.sort_by(f64::total_cmp);
                format!("{:.1}", 1e6 * s[s.len() / 2])
            })
            .collect();
        println!(
            "| {} ({} instances) | {} |",
            self.name,
            self.instances,
            times.join(" | ")
        );
    }
}

fn header(first: &str) {
    let names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
    println!("| {first} | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(RULES.len()));
}

/// The reference file's instances, if it is there: (name, p, d, reference value, proven).
fn reference(args: &Args, n: usize) -> Option<Vec<(String, Vec<i64>, Vec<i64>, i64, bool)>> {
    let path = args.data.join(format!("smtt_n{n}.json"));
    let text = std::fs::read_to_string(&path).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let list = doc["instances"].as_array()?;
    let ints = |v: &serde_json::Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect()
    };
    Some(
        list.iter()
            .map(|i| {
                (
                    i["name"].as_str().unwrap().to_string(),
                    ints(&i["p"]),
                    ints(&i["d"]),
                    i["best_known"].as_i64().unwrap(),
                    i["proven_optimal"].as_bool().unwrap_or(false),
                )
            })
            .collect(),
    )
}

fn optimum(instance: &Instance, limit: f64) -> Option<i64> {
    lawler::solve(instance, Some(limit)).map(|(_, cost)| cost)
}

fn main() {
    let mut args = args();
    if args.smoke {
        args.reps_20 = 1;
    }
    let mut gap_rows = Vec::new();

    // The reference sets, rebuilt by the generator.
    for (n, reps) in [(20usize, 2usize), (50, 1)] {
        let mut tally = Tally::new(format!("n={n} reference set"));
        let files = reference(&args, n);
        let (mut agree, mut improved, mut checked) = (0, 0, 0);
        for rdd in 0..5 {
            for tf in 0..5 {
                for rep in 0..reps {
                    let GeneratedInstance { name, instance, .. } =
                        potts_van_wassenhove(n, rdd, tf, rep, false);
                    let opt = optimum(&instance, args.lawler_limit);
                    if let Some(files) = &files {
                        let (file_name, p, d, value, _) = files
                            .iter()
                            .find(|f| f.0 == name)
                            .expect("the reference file has every generated instance");
                        assert_eq!(*file_name, name);
                        let jobs = instance.jobs();
                        assert!(
                            jobs.iter().map(|j| j.processing_time).eq(p.iter().copied())
                                && jobs.iter().map(|j| j.due_date).eq(d.iter().copied()),
                            "{name}: the generator does not reproduce the file"
                        );
                        if let Some(opt) = opt {
                            checked += 1;
                            agree += usize::from(opt == *value);
                            improved += usize::from(opt < *value);
                            assert!(
                                opt <= *value,
                                "{name}: Lawler {opt} above the reference {value}"
                            );
                        }
                    }
                    tally.add(&instance, opt);
                }
            }
        }
        if files.is_some() {
            println!(
                "n = {n}: Lawler's optimum equals the reference value on {agree} of {checked} \
                 instances and is below it (the reference was an upper bound) on {improved}"
            );
        } else {
            println!(
                "n = {n}: reference file not found under {}",
                args.data.display()
            );
        }
        gap_rows.push(tally);
    }

    // The paper's design at n = 20: RDD 0.2..1.0 × TF 0.2..0.8, reps per class.
    let mut paper = Tally::new(format!("n=20 paper design (20 classes × {})", args.reps_20));
    for rdd in 0..5 {
        for tf in 0..4 {
            for rep in 0..args.reps_20 {
                // Reps beyond the reference file's 2 use the generator's seeds further on.
                let g = potts_van_wassenhove(20, rdd, tf, rep, false);
                let opt = optimum(&g.instance, args.lawler_limit);
                paper.add(&g.instance, opt);
            }
        }
    }
    gap_rows.insert(1, paper);

    // Larger n: one instance per class.
    let larger: &[usize] = if args.smoke { &[] } else { &[100, 200, 500] };
    for &n in larger {
        let mut tally = Tally::new(format!("n={n}"));
        let clock = Instant::now();
        let mut lawler_seconds = Vec::new();
        for rdd in 0..5 {
            for tf in 0..5 {
                let g = potts_van_wassenhove(n, rdd, tf, 0, false);
                let start = Instant::now();
                let opt = optimum(&g.instance, args.lawler_limit);
                if opt.is_some() {
                    lawler_seconds.push(start.elapsed().as_secs_f64());
                }
                tally.add(&g.instance, opt);
            }
        }
        let worst = lawler_seconds.iter().copied().fold(0.0, f64::max);
        println!(
            "n = {n}: Lawler's decomposition proved {} of 25 optima within {} s each \
             (mean {:.2} s, worst {:.2} s); {:.0} s in all",
            tally.solved,
            args.lawler_limit,
            lawler_seconds.iter().sum::<f64>() / lawler_seconds.len().max(1) as f64,
            worst,
            clock.elapsed().as_secs_f64()
        );
        if tally.solved < tally.instances {
            tally.name = format!("{} (gaps over the {} solved)", tally.name, tally.solved);
        }
        gap_rows.push(tally);
    }

    println!();
    println!("Mean optimality gap (%), instances with OPT > 0:");
    println!();
    header("set");
    for t in &gap_rows {
        t.print_gaps();
    }
    println!();
    println!("Median run time per instance (µs):");
    println!();
    header("set");
    for t in &gap_rows {
        t.print_times();
    }
}
