"""pymdptoolbox's documented examples through decide.compat.mdptoolbox.

The documented values come from pymdptoolbox's epsilon-approximate value iteration, printed
rounded: forest to 4 decimals, small to 6. decide returns the exact optimum (certified to
~1e-12 here), and the exact values of these two models are rational numbers that the printed
digits represent exactly up to that rounding: forest at 0.96 is (74.6496, 78.1056, 82.1056)
exactly, small at 0.99 is (392.299107142857..., 386.160714285714...). So each value must be
within half a unit of the last printed digit (5e-5, 5e-7) of the documented one; the
certified bounds must contain the exact value as well.
"""

from __future__ import annotations

import numpy as np
import pytest

from decide.compat import mdptoolbox
from decide.compat.mdptoolbox import example, mdp

CLASSES = [
    mdp.ValueIteration,
    mdp.ValueIterationGS,
    mdp.PolicyIteration,
    mdp.PolicyIterationModified,
]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_forest_at_096(cls):
    P, R = example.forest()
    solver = cls(P, R, 0.96)
    solver.run()
    assert isinstance(solver.V, tuple) and isinstance(solver.policy, tuple)
    assert solver.V == pytest.approx((74.6496, 78.1056, 82.1056), abs=5e-5)
    assert solver.policy == (0, 0, 0)
    assert all(type(a) is int for a in solver.policy)
    assert solver.iter >= 1 and solver.time >= 0
    exact = np.array([74.6496, 78.1056, 82.1056])
    sol = solver.solution
    assert np.all(sol.lower <= exact + 1e-12) and np.all(exact - 1e-12 <= sol.upper)
    assert sol.report.policy_gap < 1e-9


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_small_at_099(cls):
    P, R = example.small()
    solver = cls(P, R, 0.99)
    solver.run()
    assert solver.V == pytest.approx((392.299107, 386.160714), abs=5e-7)
    assert solver.policy == (1, 0)
    # The exact optimum (a rational number), not an epsilon-approximation.
    assert solver.V[0] == pytest.approx(392.29910714285714, abs=1e-9)


def test_sparse_forest_and_module_layout():
    assert mdptoolbox.mdp is mdp and mdptoolbox.example is example
    P, R = example.forest(S=5, is_sparse=True)
    assert len(P) == 2 and P[0].shape == (5, 5) and P[0].format == "csr"
    dense_P, dense_R = example.forest(S=5)
    assert np.allclose(P[0].toarray(), dense_P[0]) and np.allclose(P[1].toarray(), dense_P[1])
    a = mdp.PolicyIteration(P, R, 0.9)
    b = mdp.PolicyIteration(dense_P, dense_R, 0.9)
    a.run()
    b.run()
    assert a.V == pytest.approx(b.V, abs=1e-12) and a.policy == b.policy


def test_example_shapes():
    P, R = example.forest(S=4)
    assert P.shape == (2, 4, 4) and R.shape == (4, 2)
    P, R = example.small()
    assert P.shape == (2, 2, 2) and R.shape == (2, 2)
    np.random.seed(0)
    P, R = example.rand(6, 3)
    assert P.shape == (3, 6, 6) and R.shape == (3, 6, 6)
    assert np.allclose(P.sum(axis=2), 1.0)
    assert np.all((R >= -1) & (R <= 1)) and np.all(R[P == 0] == 0)
    P, R = example.rand(8, 2, is_sparse=True)
    assert len(P) == 2 and len(R) == 2 and P[0].shape == (8, 8)
    assert np.allclose(np.asarray(P[1].sum(axis=1)).ravel(), 1.0)
    mask = np.eye(5)
    P, R = example.rand(5, 2, mask=mask)
    assert np.allclose(P[0], np.eye(5)) and np.allclose(P[1], np.eye(5))
    with pytest.raises(ValueError):
        example.rand(1, 2)
    with pytest.raises(ValueError):
        example.forest(S=1)


def test_rand_models_solve_alike_with_every_class():
    np.random.seed(3)
    P, R = example.rand(12, 3)
    results = []
    for cls in CLASSES:
        solver = cls(P, R, 0.9)
        solver.run()
        results.append(solver)
    for other in results[1:]:
        assert other.V == pytest.approx(results[0].V, abs=1e-9)


def test_lp_agrees_with_policy_iteration():
    np.random.seed(5)
    P, R = example.rand(15, 3)
    lp = mdp.LP(P, R, 0.9)
    lp.run()
    pi = mdp.PolicyIteration(P, R, 0.9)
    pi.run()
    assert lp.V == pytest.approx(pi.V, abs=1e-8)
    assert lp.policy == pi.policy
    for cls in (mdp.LP,):
        solver = cls(*example.forest(), 0.96)
        solver.run()
        assert solver.V == pytest.approx((74.6496, 78.1056, 82.1056), abs=5e-5)
        assert solver.policy == (0, 0, 0)


def test_finite_horizon_matches_pymdptoolbox_doc():
    # pymdptoolbox's FiniteHorizon docstring: forest(), discount 0.9, N = 3.
    P, R = example.forest()
    fh = mdp.FiniteHorizon(P, R, 0.9, 3)
    fh.run()
    expected_v = np.array(
        [[2.6973, 0.81, 0.0, 0.0], [5.9373, 3.24, 1.0, 0.0], [9.9373, 7.24, 4.0, 0.0]]
    )
    assert fh.V.shape == (3, 4) and fh.policy.shape == (3, 3)
    assert np.allclose(fh.V, expected_v, atol=5e-5)
    assert fh.policy.tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    # Final values h appear in the last column and feed the stages before.
    fh = mdp.FiniteHorizon(P, R, 0.9, 1, h=[1.0, 2.0, 3.0])
    fh.run()
    assert fh.V[:, 1].tolist() == [1.0, 2.0, 3.0]
    assert fh.V[0, 0] == pytest.approx(max(0 + 0.9 * (0.1 * 1 + 0.9 * 2), 0 + 0.9 * 1))


def test_relative_value_iteration_gain():
    # forest(): waiting forever in the oldest state earns r1 = 4 with probability 0.9 each
    # year; the optimal gain of the default forest is 3.24 (pymdptoolbox's docstring).
    P, R = example.forest()
    rvi = mdp.RelativeValueIteration(P, R)
    rvi.run()
    assert rvi.average_reward == pytest.approx(3.24, abs=1e-9)
    assert rvi.policy == (0, 0, 0)
    assert rvi.V[0] == 0.0
    assert rvi.solution.gain.lower <= 3.24 + 1e-12 <= rvi.solution.gain.upper + 2e-12


def test_discount_one_is_total_reward():
    # Two transient states that reach an absorbing zero-reward state.
    P = np.array(
        [
            [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
            [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]],
        ]
    )
    R = np.array([[1.0, 1.5], [2.0, 0.5], [0.0, 0.0]])
    vi = mdp.ValueIteration(P, R, 1.0)
    vi.run()
    assert vi.V == pytest.approx((3.0, 2.0, 0.0), abs=1e-9)
    assert vi.policy[:2] == (0, 0)
    assert vi.solution.report.criterion == "total"


def test_verbose_prints_iterations(capsys):
    P, R = example.small()
    vi = mdp.ValueIteration(P, R, 0.9)
    vi.setVerbose()
    vi.run()
    out = capsys.readouterr().out
    assert "Iteration" in out and out.count("\n") >= 3
    vi.setSilent()
    vi.run()
    assert capsys.readouterr().out == ""


def test_expected_reward_attribute():
    P, R = example.forest()
    vi = mdp.ValueIteration(P, R, 0.96)
    assert len(vi.R) == 2 and np.allclose(vi.R[0], R[:, 0]) and np.allclose(vi.R[1], R[:, 1])
    assert vi.S == 3 and vi.A == 2


def test_errors_are_value_errors():
    import decide

    P, R = example.small()
    P = P.copy()
    P[0, 0, 0] = 0.4  # the row sums to 0.9
    with pytest.raises(decide.ModelError) as info:
        mdp.ValueIteration(P, R, 0.9)
    assert info.value.state == 0 and info.value.action == 0
    assert info.value.kind == "probability_sum"
    with pytest.raises(ValueError):
        mdp.ValueIteration(*example.small(), 1.5)
