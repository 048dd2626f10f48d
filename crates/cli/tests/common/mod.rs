//! What every command-line test file needs: running `decide` with an expected exit code, the
//! shipped test data, and reading what the command wrote. (Each test file is its own crate
//! and uses a different part of this module.)
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path under the repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata")
        .join(rel)
}

/// Runs `decide ARGS` (no backtraces) and checks its exit code, showing both streams when it
/// differs.
pub fn decide(args: &[&str], expect_code: i32) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_decide"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("decide runs");
    assert_eq!(
        out.status.code(),
        Some(expect_code),
        "decide {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A JSON file decide wrote.
pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A path as the `&str` argument of a command line.
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
