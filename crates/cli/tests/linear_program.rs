//! `decide solve --algorithm lp` (HiGHS) from the command line.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn lp_solves_forest_s1000_and_converges() {
    let model = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/mdp/forest_S1000.transitions.csv");
    for algorithm in ["lp", "lp-dual"] {
        let out = Command::new(env!("CARGO_BIN_EXE_decide"))
            .args(["solve", model.to_str().unwrap(), "--algorithm", algorithm])
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("decide runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{algorithm}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        assert!(stdout.contains("linear_programming"), "{stdout}");
        assert!(stdout.contains("converged"), "{stdout}");
        // HiGHS prints nothing.
        assert!(stderr.is_empty(), "{stderr}");
    }
}
