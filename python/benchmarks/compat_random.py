"""A pymdptoolbox-style script at scale, run through decide's compat layer.

Builds a random sparse MDP the way a pymdptoolbox user would (a list of A scipy.sparse CSR
matrices with B successors per row, rewards R[s, a]), then runs ValueIteration,
ValueIterationGS, PolicyIteration and PolicyIterationModified on it, printing wall time and
the process's peak resident memory. Usage:

    python python/benchmarks/compat_random.py [--states 100000] [--actions 4] [--outcomes 5]
                                              [--discount 0.95] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import scipy.sparse as sp


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def random_sparse_mdp(states: int, actions: int, outcomes: int, seed: int):
    """P: list of `actions` CSR (S, S) matrices with `outcomes` random successors per row
    (repeats merge); R: (S, A) uniform rewards."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(states), outcomes)
    P = []
    for _ in range(actions):
        cols = rng.integers(0, states, size=states * outcomes)
        w = rng.random((states, outcomes))
        w /= w.sum(axis=1, keepdims=True)
        P.append(sp.csr_matrix((w.ravel(), (rows, cols)), shape=(states, states)))
    R = rng.random((states, actions))
    return P, R


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, default=100_000)
    parser.add_argument("--actions", type=int, default=4)
    parser.add_argument("--outcomes", type=int, default=5)
    parser.add_argument("--discount", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--classes",
        default="ValueIteration,ValueIterationGS,PolicyIteration,PolicyIterationModified",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from decide.compat.mdptoolbox import mdp

    result = {"states": args.states, "actions": args.actions, "outcomes": args.outcomes}
    t = time.perf_counter()
    P, R = random_sparse_mdp(args.states, args.actions, args.outcomes, args.seed)
    result["generate_seconds"] = time.perf_counter() - t
    result["rss_after_generate_mb"] = peak_rss_mb()
    runs = {}
    values = None
    for name in args.classes.split(","):
        t = time.perf_counter()
        solver = getattr(mdp, name)(P, R, args.discount)
        build = time.perf_counter() - t
        solver.run()
        total = time.perf_counter() - t
        report = solver.solution.report
        if values is None:
            values = np.asarray(solver.V)
        runs[name] = {
            "build_seconds": build,
            "run_seconds": solver.time,
            "total_seconds": total,
            "iterations": solver.iter,
            "status": report.status,
            "policy_gap": report.policy_gap,
            "max_abs_diff_from_first": float(np.abs(np.asarray(solver.V) - values).max()),
            "peak_rss_mb": peak_rss_mb(),
        }
        del solver
    result["runs"] = runs
    result["peak_rss_mb"] = peak_rss_mb()
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{args.states} states, {args.actions} actions, {args.outcomes} outcomes: "
            f"generated in {result['generate_seconds']:.2f} s "
            f"(peak RSS {result['rss_after_generate_mb']:.0f} MiB)"
        )
        for name, r in runs.items():
            print(
                f"  {name:<24} build {r['build_seconds']:.2f} s  run {r['run_seconds']:.2f} s  "
                f"{r['iterations']:>5} it  {r['status']:<16} gap {r['policy_gap']:.1e}  "
                f"|dV| {r['max_abs_diff_from_first']:.1e}  peak RSS {r['peak_rss_mb']:.0f} MiB"
            )
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
