#!/usr/bin/env python3
"""Check `decide` against the public Cassandra example files and their reference values.

The public .POMDP files cannot be copied into this repository (their licenses forbid it), so
this opt-in check reads them from a folder outside it: by default ../shared/data/cassandra
relative to the repository root. For every NAME.reference.json there it

- solves the model with `decide solve FILE --output TMP.json` and compares the values as the
  folder's README says: |V - Vref| <= 1e-6 * max(1, |Vref|) in every state, and the policy
  outside the states the reference lists as ties;
- for a file with discount 1 (no reference V), runs `decide info FILE` and requires success.

It prints one line per file and exits 1 on any mismatch (2 when it cannot run at all).
Standard library only.

    scripts/check-cassandra-corpus.py [FOLDER] [--decide PATH]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VALUE_TOLERANCE = 1e-6
TIMEOUT_SECONDS = 600


def run(command):
    """Runs `command`, returning (exit code, stdout + stderr)."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {TIMEOUT_SECONDS} s"
    return done.returncode, done.stdout + done.stderr


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_values(decide, model, reference):
    """Solves `model` and compares with the reference V and policy: (ok, message)."""
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "solution.json")
        code, text = run([decide, "solve", model, "--output", output])
        if code != 0:
            return False, f"`decide solve` exited {code}: {last_line(text)}"
        try:
            with open(output, encoding="utf-8") as handle:
                solution = json.load(handle)
        except (OSError, ValueError) as error:
            return False, f"cannot read the --output JSON: {error}"
    values = solution.get("values")
    expected = reference["V"]
    if not isinstance(values, list) or len(values) != len(expected):
        return False, f"`values` should be a list of {len(expected)} numbers"
    worst = 0.0
    for state, (found, wanted) in enumerate(zip(values, expected)):
        gap = abs(found - wanted)
        worst = max(worst, gap / max(1.0, abs(wanted)))
        if gap > VALUE_TOLERANCE * max(1.0, abs(wanted)):
            return False, f"V({state}) = {found!r}, reference {wanted!r}"
    policy = solution.get("policy")
    ties = set(reference.get("tie_states", []))
    if isinstance(policy, list) and len(policy) == len(expected):
        for state, action in enumerate(policy):
            if state in ties:
                continue
            # The policy may list action indices or action names.
            wanted = reference["policy"][state]
            if isinstance(action, str):
                wanted = reference["policy_names"][state]
            if action != wanted:
                return False, f"policy({state}) = {action!r}, reference {wanted!r} (no tie there)"
    else:
        return False, f"`policy` should be a list of {len(expected)} actions"
    return True, f"V within {worst:.1e} (relative), policy matches outside {len(ties)} tie state(s)"


def check_info(decide, model, reference):
    """Runs `decide info` on a model without reference values: (ok, message)."""
    code, text = run([decide, "info", model])
    if code != 0:
        return False, f"`decide info` exited {code}: {last_line(text)}"
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "states" and words[1] != str(reference["states"]):
            return False, f"`decide info` says {line.strip()!r}, reference {reference['states']} states"
    # Show the facts a reader gets wrong most easily, when `info` prints them as
    # "name   value" lines; otherwise its first line.
    wanted = ("states", "actions", "discount", "sense")
    facts = [
        " ".join(line.split())
        for line in text.splitlines()
        if line.split() and line.split()[0] in wanted
    ]
    shown = "; ".join(facts) if facts else last_line(text)
    return True, f"decide info ok ({shown})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "folder",
        nargs="?",
        default=os.path.join(REPO, "..", "shared", "data", "cassandra"),
        help="folder with the .POMDP files and their NAME.reference.json",
    )
    parser.add_argument(
        "--decide",
        default=os.path.join(REPO, "target", "release", "decide"),
        help="the decide binary (default: target/release/decide)",
    )
    args = parser.parse_args()

    if not os.path.isfile(args.decide):
        print(f"no decide binary at {args.decide}: run `cargo build --release` first")
        return 2
    if not os.path.isdir(args.folder):
        print(f"no folder {args.folder}")
        return 2
    references = sorted(
        name for name in os.listdir(args.folder) if name.endswith(".reference.json")
    )
    if not references:
        print(f"no *.reference.json in {args.folder}")
        return 2

    failures = 0
    for name in references:
        with open(os.path.join(args.folder, name), encoding="utf-8") as handle:
            reference = json.load(handle)
        model = os.path.join(args.folder, reference["file"])
        if "V" in reference:
            ok, message = check_values(args.decide, model, reference)
        else:
            ok, message = check_info(args.decide, model, reference)
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {reference['file']}: {message}")
    print(f"{len(references) - failures} of {len(references)} files match")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
