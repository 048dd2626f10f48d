//! `decide generate` reproduces the reference data byte for byte, and the `.decide` binary
//! format round-trips every shipped model and refuses damaged files with exit 1, never a
//! panic, without trusting the sizes its header claims.

mod common;

use common::{decide, path_str as s, testdata};
use decide_io::binary;
use decide_io::{ReadOptions, read_model};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn random_reproduces_the_reference_instance_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("X.csv");
    decide(
        &[
            "generate",
            "random",
            "--states",
            "2000",
            "--actions",
            "4",
            "--outcomes",
            "5",
            "--seed",
            "42",
            s(&out),
        ],
        0,
    );
    let mine = std::fs::read(&out).unwrap();
    let reference =
        std::fs::read(testdata("mdp/random_N2000_A4_B5_seed42.transitions.csv")).unwrap();
    assert!(
        mine == reference,
        "generated CSV differs from the reference"
    );
    // The sidecar makes it solvable as it is (discount 0.99).
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("X.meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["states"], 2000);
    assert_eq!(meta["discount"], 0.99);
    assert_eq!(meta["rows"], 40000);
}

#[test]
fn forest_reproduces_pymdptoolbox_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for states in ["3", "1000"] {
        let out = dir.path().join(format!("forest_S{states}.transitions.csv"));
        decide(&["generate", "forest", "--states", states, s(&out)], 0);
        let reference = testdata(&format!("mdp/forest_S{states}.transitions.csv"));
        assert!(
            std::fs::read(&out).unwrap() == std::fs::read(reference).unwrap(),
            "forest S={states} differs"
        );
    }
}

#[test]
fn every_format_holds_the_same_generated_model() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "gridworld",
        "--width",
        "9",
        "--height",
        "7",
        "--slip",
        "0.3",
    ];
    let mut models = Vec::new();
    for ext in ["csv", "json", "decide"] {
        let out = dir.path().join(format!("grid.{ext}"));
        let mut all = vec!["generate"];
        all.extend_from_slice(&args);
        all.push(s(&out));
        decide(&all, 0);
        models.push(read_model(&out, &ReadOptions::default()).unwrap());
    }
    for m in &models[1..] {
        assert_eq!(m.mdp, models[0].mdp);
        assert_eq!(m.discount, Some(0.99));
    }
    // Rewards per pair only: smaller, and the same expected rewards.
    let lean = dir.path().join("lean.decide");
    let mut all = vec!["generate"];
    all.extend_from_slice(&args);
    all.extend_from_slice(&["--rewards", "expected", s(&lean)]);
    decide(&all, 0);
    let lean_model = read_model(&lean, &ReadOptions::default()).unwrap();
    assert!(!lean_model.mdp.has_outcome_rewards());
    assert_eq!(
        lean_model.mdp.csr().pair_reward,
        models[0].mdp.csr().pair_reward
    );
    let out = decide(&["solve", s(&lean), "--quiet"], 0);
    assert!(out.stdout.is_empty());
    // Bad parameters are usage errors.
    decide(&["generate", "gridworld", "--width", "0", s(&lean)], 2);
    decide(
        &[
            "generate",
            "forest",
            "--states",
            "5",
            s(&dir.path().join("x.txt")),
        ],
        2,
    );
}

/// Every shipped model, converted to `.decide` and read back, is the same model with the same
/// discount and sense; and it reads from standard input too.
#[test]
fn binary_round_trips_every_shipped_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs: Vec<PathBuf> = Vec::new();
    for folder in ["mdp", "cassandra"] {
        for entry in std::fs::read_dir(testdata(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_str().unwrap().to_ascii_lowercase();
            if name.ends_with(".transitions.csv")
                || name.ends_with(".mdp")
                || name.ends_with(".pomdp")
            {
                inputs.push(path);
            }
        }
    }
    assert!(inputs.len() >= 6, "{inputs:?}");
    let mut round_tripped = 0;
    for input in &inputs {
        let Ok(original) = read_model(input, &ReadOptions::default()) else {
            continue; // fixtures of invalid models
        };
        let out = dir.path().join("m.decide");
        decide(&["convert", s(input), s(&out)], 0);
        let back = read_model(&out, &ReadOptions::default()).unwrap();
        assert_eq!(back.mdp, original.mdp, "{}", input.display());
        assert_eq!(back.discount, original.discount);
        assert_eq!(back.sense, original.sense);
        let json = dir.path().join("m.json");
        decide(&["convert", s(&out), s(&json)], 0);
        assert_eq!(
            read_model(&json, &ReadOptions::default()).unwrap().mdp,
            original.mdp
        );
        round_tripped += 1;
    }
    assert!(round_tripped >= 6);

    let model = dir.path().join("fl.decide");
    decide(
        &[
            "convert",
            s(&testdata("mdp/frozenlake8x8_slippery.transitions.csv")),
            s(&model),
        ],
        0,
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_decide"))
        .args(["solve", "-", "--quiet", "--output"])
        .arg(dir.path().join("sol.json"))
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&model).unwrap())
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

fn frozenlake_decide(dir: &Path) -> (PathBuf, Vec<u8>) {
    let model = dir.join("good.decide");
    decide(
        &[
            "convert",
            s(&testdata("mdp/frozenlake8x8_slippery.transitions.csv")),
            s(&model),
        ],
        0,
    );
    let bytes = std::fs::read(&model).unwrap();
    (model, bytes)
}

/// `decide info` on the bytes exits 1 (an invalid model, not a crash) naming the problem.
fn check_rejected(dir: &Path, bytes: &[u8], fragment: &str) {
    let path = dir.join("bad.decide");
    std::fs::write(&path, bytes).unwrap();
    let started = Instant::now();
    let out = decide(&["info", s(&path)], 1);
    assert!(started.elapsed() < Duration::from_secs(5));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(fragment) && stderr.contains("bad.decide"),
        "expected {fragment:?} in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn truncated_and_corrupted_files_exit_1_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = frozenlake_decide(dir.path());
    check_rejected(dir.path(), &[], "not a decide binary model");
    check_rejected(dir.path(), &good[..5], "truncated");
    check_rejected(dir.path(), &good[..127], "truncated");
    for cut in [128, 129, 1000, good.len() - 1] {
        check_rejected(dir.path(), &good[..cut], "truncated");
    }
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 8]);
    check_rejected(dir.path(), &longer, "extended");
    check_rejected(
        dir.path(),
        b"state,action\n0,0\n",
        "not a decide binary model",
    );

    // One flipped bit anywhere: the header's or the data's checksum catches it.
    let mut bad_header = good.clone();
    bad_header[20] ^= 1;
    check_rejected(dir.path(), &bad_header, "header is corrupted");
    for at in [128, 500, good.len() / 2, good.len() - 3] {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        check_rejected(dir.path(), &bad, "corrupted");
    }
    let mut version = good.clone();
    version[8] = 9;
    binary::reseal(&mut version);
    check_rejected(dir.path(), &version, "version 9 is not supported");

    // A consistent header over data that breaks the model rules is still refused, by the
    // same checks the row builder makes: here the first probability is halved.
    let n_states = u64::from_le_bytes(good[16..24].try_into().unwrap()) as usize;
    let n_pairs = u64::from_le_bytes(good[32..40].try_into().unwrap()) as usize;
    let n_transitions = u64::from_le_bytes(good[40..48].try_into().unwrap()) as usize;
    let pad = |x: usize| x.div_ceil(8) * 8;
    let probabilities = 128
        + 8 * (n_states + 1)
        + pad(4 * n_pairs)
        + 8 * (n_pairs + 1)
        + 8 * n_pairs
        + pad(4 * n_transitions);
    let mut wrong = good.clone();
    let p = f64::from_le_bytes(wrong[probabilities..probabilities + 8].try_into().unwrap());
    wrong[probabilities..probabilities + 8].copy_from_slice(&(0.5 * p).to_le_bytes());
    binary::reseal(&mut wrong);
    check_rejected(dir.path(), &wrong, "probabilities sum to");
    let mut unsorted = good.clone();
    let next = probabilities - pad(4 * n_transitions);
    unsorted[next..next + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    binary::reseal(&mut unsorted);
    check_rejected(dir.path(), &unsorted, "out of range");
}

/// A header that claims 10^15 transitions with a matching length field fails at once,
/// before anything is allocated for them.
#[test]
fn a_header_claiming_huge_sizes_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = frozenlake_decide(dir.path());
    for (field, value) in [(16, 1u64 << 40), (40, 1_000_000_000_000_000), (56, 1 << 50)] {
        let mut huge = good[..128].to_vec();
        huge[field..field + 8].copy_from_slice(&value.to_le_bytes());
        // Make the length field agree with the counts, so only the real length can tell.
        let counts: Vec<u64> = (0..6)
            .map(|i| u64::from_le_bytes(huge[16 + 8 * i..24 + 8 * i].try_into().unwrap()))
            .collect();
        let (states, pairs, transitions, terminal, names) =
            (counts[0], counts[2], counts[3], counts[4], counts[5]);
        let flags = u32::from_le_bytes(huge[12..16].try_into().unwrap());
        let pad = |x: u64| x.div_ceil(8) * 8;
        let mut length = 128 + 8 * (states + 1) + pad(4 * pairs) + 8 * (pairs + 1) + 8 * pairs;
        length += pad(4 * transitions) + 8 * transitions;
        if flags & 1 != 0 {
            length += 8 * transitions;
        }
        length += pad(4 * terminal) + if flags & 8 != 0 { 8 * terminal } else { 0 };
        length += pad(names);
        huge[88..96].copy_from_slice(&length.to_le_bytes());
        huge.extend_from_slice(&good[128..]);
        binary::reseal_header(&mut huge);
        check_rejected(dir.path(), &huge, "truncated or extended");
    }
    // Counts whose byte size overflows u64.
    let mut overflow = good.clone();
    overflow[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    binary::reseal_header(&mut overflow);
    check_rejected(dir.path(), &overflow, "beyond any file");
}

/// `--probabilities f32` holds a `.decide` model with `f32` probabilities and certifies the
/// result against the file's exact ones: the reference values of a shipped model lie within
/// its bounds, a generated model gets the values of the exact solve, and the reader's `f32`
/// array is the exact one rounded.
#[test]
fn f32_probabilities_are_certified_against_the_exact_file() {
    let dir = tempfile::tempdir().unwrap();
    // A shipped model with reference values (pymdptoolbox's exact policy iteration).
    let model = dir.path().join("frozen.decide");
    decide(
        &[
            "convert",
            s(&testdata("mdp/frozenlake8x8_slippery.transitions.csv")),
            s(&model),
        ],
        0,
    );
    let reference = common::read_json(&testdata("mdp/frozenlake8x8_slippery.reference.json"));
    let output = dir.path().join("f32.json");
    let out = decide(
        &[
            "solve",
            s(&model),
            "--probabilities",
            "f32",
            "--output",
            s(&output),
        ],
        0,
    );
    assert!(common::stdout(&out).contains("probabilities held as f32"));
    let solution = common::read_json(&output);
    assert!(
        solution["report"]["notes"][0]
            .as_str()
            .unwrap()
            .contains("f32")
    );
    let gap = solution["report"]["policy_gap"].as_f64().unwrap();
    assert!(gap <= 1e-6, "gap {gap}");
    for (s, want) in reference["V"].as_array().unwrap().iter().enumerate() {
        let want = want.as_f64().unwrap();
        let (lower, upper) = (
            solution["lower"][s].as_f64().unwrap(),
            solution["upper"][s].as_f64().unwrap(),
        );
        assert!(lower - 1e-12 <= want && want <= upper + 1e-12, "state {s}");
    }

    // A generated random model: f32 and f64 solves agree within their certificates.
    let random = dir.path().join("random.decide");
    decide(
        &[
            "generate",
            "random",
            "--states",
            "20000",
            "--actions",
            "4",
            "--outcomes",
            "5",
            "--seed",
            "3",
            "--rewards",
            "expected",
            s(&random),
        ],
        0,
    );
    let (exact_json, rounded_json) = (dir.path().join("e.json"), dir.path().join("r.json"));
    decide(&["solve", s(&random), "-q", "--output", s(&exact_json)], 0);
    decide(
        &[
            "solve",
            s(&random),
            "-q",
            "--probabilities",
            "f32",
            "--output",
            s(&rounded_json),
        ],
        0,
    );
    let (exact, rounded) = (
        common::read_json(&exact_json),
        common::read_json(&rounded_json),
    );
    let values = |j: &serde_json::Value| -> Vec<f64> {
        j["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let (e, r) = (values(&exact), values(&rounded));
    assert_eq!(e.len(), 20000);
    for s in 0..e.len() {
        assert!(
            (e[s] - r[s]).abs() <= 2e-6,
            "state {s}: {} vs {}",
            e[s],
            r[s]
        );
    }

    // The reader: the f32 array is the exact one rounded to nearest, outcome by outcome.
    let exact_model = read_model(&random, &ReadOptions::default()).unwrap().mdp;
    let rounded_model = read_model(
        &random,
        &ReadOptions {
            f32_probabilities: true,
            ..ReadOptions::default()
        },
    )
    .unwrap()
    .mdp;
    let (p, q) = (
        exact_model.csr().probability,
        rounded_model.csr().probability,
    );
    assert!(!q.is_exact());
    assert_eq!(p.len(), q.len());
    assert!((0..p.len()).all(|j| q.at(j) == f64::from(p.at(j) as f32)));
    assert!(rounded_model.memory_bytes() + 4 * p.len() == exact_model.memory_bytes());
}

#[test]
fn f32_probabilities_are_refused_where_they_cannot_be_certified() {
    let dir = tempfile::tempdir().unwrap();
    let csv = testdata("mdp/forest_S3.transitions.csv");
    let out = decide(&["solve", s(&csv), "--probabilities", "f32"], 2);
    assert!(
        common::stderr(&out).contains(".decide"),
        "{}",
        common::stderr(&out)
    );
    let model = dir.path().join("forest.decide");
    decide(&["convert", s(&csv), s(&model)], 0);
    for (flags, fragment) in [
        (&["--criterion", "average"][..], "discounted criterion only"),
        (&["--ambiguity", "l1:0.1"][..], "robust"),
    ] {
        let mut args = vec!["solve", s(&model), "--probabilities", "f32"];
        args.extend_from_slice(flags);
        let out = decide(&args, 2);
        assert!(
            common::stderr(&out).contains(fragment),
            "{flags:?}: {}",
            common::stderr(&out)
        );
    }
    let out = decide(&["solve", s(&model), "--probabilities", "f16"], 2);
    assert!(common::stderr(&out).contains("f16"));
    // Standard input cannot be read twice.
    let out = Command::new(env!("CARGO_BIN_EXE_decide"))
        .args(["solve", "-", "--probabilities", "f32"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
