"""Model.solve: algorithms, criteria, progress callbacks, the GIL and Ctrl-C."""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import decide
from decide.compat.mdptoolbox import example


def slow_model(states=3000, seed=0):
    """Deterministic cycles (each state moves 1 or 2 steps on a ring) at discount 0.999999:
    value iteration's bounds close only at the rate of the discount, so at tolerance 0 it
    would take millions of sweeps; the tests below stop it by other means."""
    rng = np.random.default_rng(seed)
    n = states
    s = np.repeat(np.arange(n), 2)
    act = np.tile([0, 1], n)
    nxt = np.stack([(np.arange(n) + 1) % n, (np.arange(n) + 2) % n], axis=1).ravel()
    return decide.Model.from_edges(
        s, act, nxt, np.ones(2 * n), rng.random(2 * n), discount=0.999999
    )


def test_solution_shape_and_report():
    P, R = example.forest()
    solution = decide.Model.from_arrays(P, R, discount=0.96).solve("vi", tolerance=1e-8)
    assert solution.values.dtype == np.float64 and solution.values.shape == (3,)
    assert solution.policy.dtype == np.int64
    assert np.all(solution.lower <= solution.values) and np.all(solution.values <= solution.upper)
    report = solution.report
    assert report.algorithm == "value_iteration" and report.status == "converged"
    assert solution.converged and solution.status == "converged"
    assert report.policy_gap <= 1e-8 and report.criterion == "discounted"
    assert report.iterations >= 1 and report.seconds >= 0
    d = report.to_dict()
    assert d["status"] == "converged" and set(d) >= {"residual", "value_error", "rounding"}
    assert "Solution(states=3" in repr(solution)


@pytest.mark.parametrize("algorithm", ["auto", "vi", "gs", "pi", "mpi"])
def test_every_algorithm(algorithm):
    P, R = example.small()
    solution = decide.Model.from_arrays(P, R, discount=0.99).solve(algorithm, tolerance=1e-9)
    assert solution.values == pytest.approx([392.29910714285714, 386.16071428571428], abs=1e-8)


def test_limits_and_progress():
    model = slow_model(500)
    seen = []
    solution = model.solve("vi", tolerance=0, max_iterations=7, progress=seen.append)
    assert solution.status == "iteration_limit" and not solution.converged
    assert [it.index for it in seen] == list(range(1, 8))
    assert all(isinstance(it, decide.Iteration) and it.max_change >= 0 for it in seen)
    # The result is still certified: its bounds meet those of the exact answer.
    # At discount 0.999999 (c = 10^6) double precision certifies policy iteration's exact
    # answer to about 2e-3 only: its status says so, and its bounds still hold.
    exact = model.solve("pi", tolerance=0)
    assert exact.status == "precision_limit" and exact.report.policy_gap < 1e-2
    assert np.all(solution.lower <= exact.upper) and np.all(exact.lower <= solution.upper)
    # A time limit.
    solution = model.solve("vi", tolerance=0, time_limit=0.05)
    assert solution.status == "time_limit"


def test_progress_can_stop_and_its_exceptions_propagate():
    model = slow_model(300)
    solution = model.solve("vi", tolerance=0, progress=lambda it: it.index < 3)
    assert solution.status == "stopped_by_observer" and solution.report.iterations == 3

    def boom(it):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        model.solve("vi", tolerance=0, progress=boom)


def test_gil_is_released_during_a_solve():
    model = slow_model(3000)
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    thread = threading.Thread(target=count)
    thread.start()
    try:
        t = time.perf_counter()
        model.solve("vi", tolerance=0, time_limit=0.5, threads=1)
        elapsed = time.perf_counter() - t
    finally:
        stop.set()
        thread.join()
    # A thread that needs the GIL every millisecond kept running throughout.
    assert elapsed >= 0.4 and len(ticks) >= 50


def test_ctrl_c_returns_the_best_result_so_far():
    model = slow_model(3000)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    t = time.perf_counter()
    try:
        solution = model.solve("vi", tolerance=0, time_limit=60)
    except KeyboardInterrupt:  # pragma: no cover - the failure this test exists to catch
        pytest.fail("KeyboardInterrupt escaped from solve")
    elapsed = time.perf_counter() - t
    timer.join()
    assert solution.status == "interrupted" and not solution.converged
    assert elapsed < 10
    assert solution.report.iterations >= 1
    assert np.all(np.isfinite(solution.lower)) and np.all(solution.lower <= solution.upper)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_to_a_script():
    """A real SIGINT to a script that solves: the solve returns, status interrupted."""
    script = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, %r)
        from test_solve import slow_model
        model = slow_model(3000)
        print("solving", flush=True)
        solution = model.solve("vi", tolerance=0, time_limit=60)
        print(solution.status, solution.report.iterations, flush=True)
        """
    ) % os.path.dirname(__file__)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "solving"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    status, iterations = out.split()
    assert status == "interrupted" and int(iterations) >= 1


def test_criteria():
    # Total reward: two transient states reach an absorbing zero-reward state.
    model = decide.Model.from_edges(
        [0, 0, 1, 1, 2], [0, 1, 0, 1, 0], [1, 2, 2, 2, 2], [1.0] * 5,
        [1.0, 1.5, 2.0, 0.5, 0.0],
    )
    total = model.solve(criterion="total")
    assert total.values.tolist() == pytest.approx([3.0, 2.0, 0.0])
    assert total.report.criterion == "total"

    # Finite horizon: stage values and decisions.
    P, R = example.forest()
    forest = decide.Model.from_arrays(P, R)
    finite = forest.solve(criterion="finite", horizon=3, discount=0.9)
    assert finite.stage_values.shape == (3, 3) and finite.stage_policy.shape == (3, 3)
    assert finite.values == pytest.approx([2.6973, 5.9373, 9.9373], abs=1e-12)
    with pytest.raises(ValueError, match="horizon"):
        forest.solve(criterion="finite")

    # Average reward: the gain with bounds.
    average = forest.solve(criterion="average")
    assert float(average.gain) == pytest.approx(3.24, abs=1e-6)
    assert average.gain.lower <= 3.24 <= average.gain.upper + 1e-12
    with pytest.raises(ValueError, match="unknown criterion"):
        forest.solve(criterion="robust")


@pytest.mark.parametrize(
    "criterion, algorithm",
    [("average", "gs"), ("average", "mpi"), ("average", "lp"), ("total", "gs"),
     ("total", "mpi"), ("total", "lp"), ("finite", "vi"), ("finite", "lp")],
)
def test_unsupported_algorithm_for_a_criterion_is_a_value_error(criterion, algorithm):
    P, R = example.forest()
    forest = decide.Model.from_arrays(P, R)
    horizon = 3 if criterion == "finite" else None
    with pytest.raises(ValueError, match=f"does not solve the {criterion} criterion") as e:
        forest.solve(algorithm, criterion=criterion, horizon=horizon)
    # The message lists what the criterion takes.
    assert "takes algorithm" in str(e.value) and "auto" in str(e.value)


def test_no_proper_policy_is_a_solve_error():
    model = decide.Model.from_edges([0], [0], [0], [1.0], [1.0])
    with pytest.raises(decide.SolveError, match="no policy reaches a terminal state"):
        model.solve(criterion="total")
