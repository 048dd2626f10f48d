#!/usr/bin/env python3
"""decide against the tools a user would pick instead, side by side, on the same models.

    python3 scripts/bench-compare.py                    # the full run (about 15-30 minutes)
    python3 scripts/bench-compare.py --quick            # sizes 10^4 and 10^5, 1 repeat
    python3 scripts/bench-compare.py --sizes 1000000 --tools decide,numpy --repeats 5

What it does:

1. creates `.venv-bench/` (gitignored) with numpy, scipy, pymdptoolbox and mdpsolver from
   PyPI, unless it is there already, and builds decide in release mode;
2. generates the models with `decide generate ... --rewards expected X.decide`: the random
   splitmix-sparse model (A=4, B=5, seed 1) at each size, and a slow-mixing gridworld;
3. computes V* with decide at tolerance 1e-9 (policy gap, so |V - V*| <= 5e-10);
4. runs every tool as a whole process (start, read the model, build its structures, solve,
   write the values), alternating tools within each repetition, the median of --repeats:
   decide (`solve --threads T --tolerance 1e-6`, from `.decide`), decide with
   `--probabilities f32` (8 bytes per transition, certified against the exact file), a numpy/scipy value
   iteration with the same span stopping rule, mdpsolver's serial value iteration, and
   pymdptoolbox's fastest algorithm that works (tried on the smallest size; failures such as
   MemoryError or the time limit are recorded as they are);
5. measures the streaming memory bandwidth (a STREAM triad in `cargo bench --bench sweep`)
   and each sweep kernel's achieved fraction of it, and decide's load speeds;
6. prints one table (tool, model, N, wall seconds, peak RSS, max |V - V*|, ratio to decide)
   and the figures, and writes them as JSON to --json (default target/bench-compare.json).

Peak RSS is each process's own maximum resident set, measured by /usr/bin/time (GNU time). The competitors
read the same `.decide` file with numpy.fromfile (scripts/bench/run_tool.py). decide's
timed runs write no output file; an untimed run with --output gives the values compared.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-bench"
RUNNER = ROOT / "scripts" / "bench" / "run_tool.py"
DECIDE = ROOT / "target" / "release" / "decide"
PYMDPTOOLBOX_CANDIDATES = ["ValueIteration", "PolicyIterationModified", "PolicyIteration"]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def venv_python():
    python = VENV / "bin" / "python"
    if not python.exists():
        log(f"creating {VENV} (numpy, scipy, pymdptoolbox, mdpsolver from PyPI)")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "numpy", "scipy", "pymdptoolbox", "mdpsolver"],
            check=True,
        )
    return python


TIME = "/usr/bin/time"


def run(cmd, timeout, env=None):
    """Runs `cmd` as a whole process: (wall seconds, peak RSS bytes, exit code, stderr tail).

    The peak RSS is the child's own, measured by GNU time (a small C program that forks the
    command): measured from this Python process, the RSS of the forked interpreter would
    count too."""
    rss_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-compare-rss-{os.getpid()}"
    wrapped = [TIME, "-f", "%M", "-o", str(rss_file)] + cmd
    started = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return time.perf_counter() - started, None, "timeout", f"killed after {timeout} s"
    wall = time.perf_counter() - started
    try:
        rss = int(rss_file.read_text().strip().splitlines()[-1]) * 1024
    except (OSError, ValueError, IndexError):
        rss = None
    return wall, rss, proc.returncode, err.decode(errors="replace")[-400:]


def read_values(path, n):
    import array

    values = array.array("d")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    if sys.byteorder != "little":
        values.byteswap()
    if len(values) != n:
        raise ValueError(f"{path}: {len(values)} values, expected {n}")
    return values


def decide_values(json_path):
    with open(json_path) as f:
        return json.load(f)["values"]


def max_error(values, reference):
    return max(abs(a - b) for a, b in zip(values, reference))


def generate(args, workdir):
    models = []
    for n in args.sizes:
        path = workdir / f"random_N{n}_A4_B5_seed1.decide"
        if not path.exists():
            subprocess.run(
                [str(DECIDE), "generate", "random", "--states", str(n), "--actions", "4",
                 "--outcomes", "5", "--seed", "1", "--rewards", "expected", str(path)],
                check=True, stdout=subprocess.DEVNULL,
            )
        models.append(("random", n, n * 20, path))
    if args.grid:
        path = workdir / f"gridworld_{args.grid}x{args.grid}.decide"
        if not path.exists():
            subprocess.run(
                [str(DECIDE), "generate", "gridworld", "--width", str(args.grid),
                 "--rewards", "expected", str(path)],
                check=True, stdout=subprocess.DEVNULL,
            )
        info = subprocess.run([str(DECIDE), "info", str(path)], capture_output=True, text=True,
                              check=True).stdout
        transitions = int(info.split("transitions")[1].split()[0])
        models.append(("gridworld", args.grid * args.grid, transitions, path))
    return models


def bandwidth(args):
    """The sweep benchmark's JSON line (triad bandwidth and kernel fractions)."""
    env = dict(os.environ, DECIDE_BENCH_STATES=str(args.bandwidth_states), DECIDE_BENCH_REPS="10")
    out = subprocess.run(
        ["cargo", "bench", "-q", "-p", "decide-solve", "--bench", "sweep"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout
    lines = out.strip().splitlines()
    for line in lines[:-1]:
        log("  " + line)
    return json.loads(lines[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="random model sizes (states), comma separated")
    parser.add_argument("--grid", type=int, default=316, help="gridworld side (0: none)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    parser.add_argument("--tools", default="decide,decide-f32,numpy,mdpsolver,pymdptoolbox",
                        help="decide, decide-f32, decide-1thread, numpy, mdpsolver, pymdptoolbox")
    parser.add_argument("--workdir", default=str(ROOT / "target" / "bench-compare"))
    parser.add_argument("--json", default=str(ROOT / "target" / "bench-compare.json"))
    parser.add_argument("--bandwidth-states", type=int, default=1_000_000)
    parser.add_argument("--no-bandwidth", action="store_true")
    parser.add_argument("--no-build", action="store_true", help="use target/release/decide as it is")
    parser.add_argument("--pymdptoolbox-algorithm", default=None,
                        help="skip the search for pymdptoolbox's fastest algorithm")
    parser.add_argument("--quick", action="store_true", help="sizes 10^4,10^5, grid 100, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.grid, args.repeats = "10000,100000", 100, 1
    args.sizes = [int(x) for x in args.sizes.split(",") if x]
    tools = args.tools.split(",")
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    python = venv_python() if set(tools) - {"decide"} else None
    if not args.no_build:
        log("building decide (release)")
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "decide-cli"], cwd=ROOT,
                       check=True)
    models = generate(args, workdir)
    load = os.getloadavg()
    log(f"load average before the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")

    # V* and decide's own values (untimed runs with --output).
    references = {}
    for kind, n, _, path in models:
        out = workdir / f"{path.stem}.vstar.json"
        if not out.exists():
            log(f"V* of {path.name} (decide, tolerance 1e-9)")
            subprocess.run([str(DECIDE), "solve", str(path), "--tolerance", "1e-9", "--quiet",
                            "--threads", str(args.threads), "--output", str(out)], check=True)
        references[path] = decide_values(out)

    # pymdptoolbox: the fastest algorithm that works, chosen on the smallest random model
    # (each candidate given at most 2 minutes there).
    pymdp_algorithm = args.pymdptoolbox_algorithm
    if "pymdptoolbox" in tools and pymdp_algorithm is None:
        randoms = [m for m in models if m[0] == "random"] or models
        smallest = min(randoms, key=lambda m: m[2])[3]
        best = None
        for algorithm in PYMDPTOOLBOX_CANDIDATES:
            out = workdir / "pymdp.values"
            wall, _, code, err = run([str(python), str(RUNNER), f"pymdptoolbox:{algorithm}",
                                      str(smallest), str(out), str(args.tolerance)],
                                     min(args.timeout, 120))
            log(f"pymdptoolbox {algorithm} on {smallest.name}: {wall:.2f} s, exit {code}")
            if code == 0 and (best is None or wall < best[1]):
                best = (algorithm, wall)
        pymdp_algorithm = best[0] if best else PYMDPTOOLBOX_CANDIDATES[0]

    def command(tool, path, values_out):
        if tool == "decide":
            return [str(DECIDE), "solve", str(path), "--threads", str(args.threads),
                    "--tolerance", str(args.tolerance), "--quiet"]
        if tool == "decide-1thread":
            return [str(DECIDE), "solve", str(path), "--threads", "1",
                    "--tolerance", str(args.tolerance), "--quiet"]
        if tool == "decide-f32":
            # Probabilities held as f32 (8 bytes per transition); the certificate is still
            # computed against the file's exact f64 probabilities.
            return [str(DECIDE), "solve", str(path), "--threads", str(args.threads),
                    "--tolerance", str(args.tolerance), "--quiet", "--probabilities", "f32"]
        name = f"pymdptoolbox:{pymdp_algorithm}" if tool == "pymdptoolbox" else tool
        return [str(python), str(RUNNER), name, str(path), str(values_out), str(args.tolerance)]

    results = {}
    failed = set()
    for rep in range(args.repeats):
        for kind, n, transitions, path in models:
            for tool in tools:
                key = (tool, path)
                if key in failed:
                    continue
                values_out = workdir / f"{tool}.{path.stem}.values"
                wall, rss, code, err = run(command(tool, path, values_out), args.timeout)
                entry = results.setdefault(key, {"walls": [], "rss": [], "error": None,
                                                 "failure": None})
                if code != 0:
                    reason = err.strip().splitlines()[-1] if err.strip() else f"exit {code}"
                    entry["failure"] = f"{'timeout' if code == 'timeout' else 'failed'}: {reason}"
                    failed.add(key)
                    log(f"[{rep + 1}/{args.repeats}] {tool:<14} {path.name}: {entry['failure']}")
                    continue
                entry["walls"].append(wall)
                entry["rss"].append(rss)
                if entry["error"] is None:
                    values = (references[path] if tool.startswith("decide")
                              else read_values(values_out, len(references[path])))
                    if tool.startswith("decide"):
                        # The timed run wrote nothing; its values equal this untimed run's.
                        tmp = workdir / "decide.check.json"
                        subprocess.run(command(tool, path, None) + ["--output", str(tmp)],
                                       check=True)
                        values = decide_values(tmp)
                    entry["error"] = max_error(values, references[path])
                log(f"[{rep + 1}/{args.repeats}] {tool:<14} {path.name}: {wall:.2f} s, "
                    f"{(rss or 0) / 2**20:.0f} MiB")

    rows = []
    for kind, n, transitions, path in models:
        base = results.get(("decide", path))
        base_wall = statistics.median(base["walls"]) if base and base["walls"] else None
        for tool in tools:
            entry = results.get((tool, path))
            if entry is None:
                continue
            label = f"pymdptoolbox ({pymdp_algorithm})" if tool == "pymdptoolbox" else tool
            if tool == "mdpsolver":
                label = "mdpsolver (serial VI)"
            if tool == "numpy":
                label = "numpy/scipy VI"
            if tool == "decide-f32":
                label = "decide --probabilities f32"
            row = {"tool": label, "model": kind, "states": n, "transitions": transitions,
                   "runs": len(entry["walls"]), "failure": entry["failure"]}
            if entry["walls"]:
                wall = statistics.median(entry["walls"])
                rss = max(r for r in entry["rss"] if r is not None)
                row.update(wall_s=wall, peak_rss_bytes=rss, max_abs_error=entry["error"],
                           ratio_to_decide=wall / base_wall if base_wall else None,
                           bytes_per_transition=rss / transitions)
            rows.append(row)

    figures = {"load_average_before": load}
    if not args.no_bandwidth:
        log("streaming bandwidth and sweep kernels (cargo bench --bench sweep)")
        figures["sweep"] = bandwidth(args)
    # Load speeds: `decide info` on the largest random model, .decide and CSV.
    largest = max((m for m in models if m[0] == "random"), key=lambda m: m[1], default=None)
    if largest:
        path = largest[3]
        walls = [run([str(DECIDE), "info", str(path)], args.timeout)[0] for _ in range(3)]
        size = path.stat().st_size
        figures["decide_load"] = {"bytes": size, "seconds": statistics.median(walls),
                                  "bytes_per_s": size / statistics.median(walls)}
        csv = workdir / f"{path.stem}.csv"
        if not csv.exists():
            subprocess.run([str(DECIDE), "generate", "random", "--states", str(largest[1]),
                            "--actions", "4", "--outcomes", "5", "--seed", "1", str(csv)],
                           check=True, stdout=subprocess.DEVNULL)
        walls, rss = [], []
        for _ in range(3):
            w, r, _, _ = run([str(DECIDE), "info", str(csv)], args.timeout)
            walls.append(w)
            rss.append(r)
        size = csv.stat().st_size
        figures["csv_load"] = {"bytes": size, "seconds": statistics.median(walls),
                               "bytes_per_s": size / statistics.median(walls),
                               "peak_rss_bytes": max(rss)}

    print()
    print(f"{'tool':<34} {'model':<10} {'N':>9} {'wall s':>9} {'peak RSS':>10} "
          f"{'B/trans':>8} {'max|V-V*|':>10} {'ratio':>7}")
    for row in rows:
        if "wall_s" in row:
            # A figure can be missing (no decide row to compare with, no V*): print a dash.
            def fmt(value, spec, width):
                return f"{value:>{width}{spec}}" if value is not None else f"{'-':>{width}}"
            ratio = row.get("ratio_to_decide")
            print(f"{row['tool']:<34} {row['model']:<10} {row['states']:>9} "
                  f"{row['wall_s']:>9.2f} {row['peak_rss_bytes'] / 2**20:>7.0f} MiB "
                  f"{fmt(row.get('bytes_per_transition'), '.1f', 8)} "
                  f"{fmt(row.get('max_abs_error'), '.1e', 10)} "
                  f"{fmt(ratio, '.1f', 6)}{'x' if ratio is not None else ' '}")
        else:
            print(f"{row['tool']:<34} {row['model']:<10} {row['states']:>9} "
                  f"{row['failure']}")
    sweep = figures.get("sweep")
    if sweep:
        triad = sweep["triad_bytes_per_s"]
        print()
        print(f"streaming bandwidth (triad): 1 thread {triad['1'] / 1e9:.2f} GB/s, "
              f"2 threads {triad['2'] / 1e9:.2f} GB/s")
        by = {(k["kernel"], k["threads"]): k for k in sweep["kernels"]}
        for k in sweep["kernels"]:
            print(f"  {k['kernel']:<16} {k['threads']} thread(s): {k['median_s'] * 1e3:8.1f} ms, "
                  f"{k['bytes'] / k['median_s'] / 1e9:5.2f} GB/s = "
                  f"{100 * k['bandwidth_fraction']:.0f}% of the triad")
        one, two = by.get(("jacobi_backup", 1)), by.get(("jacobi_backup", 2))
        if one and two:
            print(f"  backup speed-up, 2 threads over 1: {one['median_s'] / two['median_s']:.2f}x")
    for name in ("decide_load", "csv_load"):
        if name in figures:
            f = figures[name]
            print(f"{name.replace('_', ' ')}: {f['bytes'] / 1e6:.0f} MB in {f['seconds']:.2f} s "
                  f"= {f['bytes_per_s'] / 1e6:.0f} MB/s (whole `decide info` process)")
    Path(args.json).write_text(json.dumps({"rows": rows, "figures": figures}, indent=1))
    log(f"wrote {args.json}")


if __name__ == "__main__":
    main()
