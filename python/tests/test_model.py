"""decide.Model: construction from arrays, edges and files; writing; errors."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import decide
from conftest import assert_policy_optimal, load_case


def forest_matrices(rows, n_states):
    """forest_S1000 as pymdptoolbox users hold it: a list of per-action CSR matrices and
    R[s, a] (the CSV writes R[s, a] on every outcome row of (s, a))."""
    P, R = [], np.zeros((n_states, 2))
    for a in range(2):
        sel = rows["action"] == a
        P.append(
            sp.csr_matrix(
                (rows["probability"][sel], (rows["state"][sel], rows["next_state"][sel])),
                shape=(n_states, n_states),
            )
        )
        R[rows["state"][sel], a] = rows["reward"][sel]
    return P, R


def test_from_arrays_csr_reproduces_forest_s1000():
    rows, meta, ref = load_case("forest_S1000")
    P, R = forest_matrices(rows, meta["states"])
    assert all(m.format == "csr" for m in P)
    model = decide.Model.from_arrays(P, R, discount=meta["discount"])
    assert model.n_states == 1000 and model.n_actions == 2 and model.n_transitions == 3000
    solution = model.solve()
    v = np.asarray(ref["V"])
    assert solution.converged
    assert np.max(np.abs(solution.values - v)) <= 1e-9 * np.max(np.abs(v))
    assert np.all(solution.lower <= v + 1e-9) and np.all(v - 1e-9 <= solution.upper)
    assert_policy_optimal(model, v, solution.policy, meta["discount"])


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil", "dok", "csr_array", "dense"])
def test_every_matrix_format_gives_the_same_model(fmt):
    rows, meta, _ = load_case("forest_S3")
    P, R = forest_matrices(rows, 3)
    reference = decide.Model.from_arrays(P, R, discount=0.96).edges()
    if fmt == "dense":
        converted = np.array([m.toarray() for m in P])
    elif fmt == "csr_array":
        converted = [sp.csr_array(m) for m in P]
    else:
        converted = [m.asformat(fmt) for m in P]
    edges = decide.Model.from_arrays(converted, R, discount=0.96).edges()
    for x, y in zip(reference, edges):
        assert np.array_equal(x, y)


def test_reward_shapes_agree():
    P = np.array([[[0.5, 0.5], [0.8, 0.2]], [[0.0, 1.0], [0.1, 0.9]]])
    R_sa = np.array([[5.0, 10.0], [-1.0, 2.0]])
    R_sss = np.stack([np.tile(R_sa[:, a : a + 1], (1, 2)) for a in range(2)])
    base = decide.Model.from_arrays(P, R_sa, discount=0.99).solve(tolerance=0).values
    for R in (R_sss, list(R_sss), [sp.csr_matrix(x) for x in R_sss]):
        values = decide.Model.from_arrays(P, R, discount=0.99).solve(tolerance=0).values
        assert np.allclose(values, base, atol=1e-9)
    # (S,): a reward per state, whatever the action.
    m = decide.Model.from_arrays(P, np.array([1.0, 2.0]), discount=0.5)
    assert np.allclose(m.expected_rewards(), [[1.0, 1.0], [2.0, 2.0]])
    # Per-transition rewards are weighted by their probabilities.
    R = np.zeros((2, 2, 2))
    R[0, 0] = [2.0, 4.0]
    m = decide.Model.from_arrays(P, R, discount=0.5)
    assert m.expected_rewards()[0, 0] == pytest.approx(3.0)


def test_zero_rows_are_unavailable_actions():
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 0.0]]])
    R = np.array([[0.0, 1.0], [0.5, 0.0]])
    model = decide.Model.from_arrays(P, R, discount=0.9)
    assert model.n_pairs == 3
    assert np.isnan(model.expected_rewards()[1, 1])
    assert model.solve().policy.tolist() == [1, 0]


def test_shape_errors():
    with pytest.raises(decide.ModelError, match=r"P must have shape \(A, S, S\)"):
        decide.Model.from_arrays(np.zeros((2, 3, 4)), np.zeros((3, 2)))
    with pytest.raises(decide.ModelError, match="R must have shape"):
        decide.Model.from_arrays(np.array([np.eye(2), np.eye(2)]), np.zeros((3, 3)))
    with pytest.raises(decide.ModelError, match="single sparse matrix"):
        decide.Model.from_arrays(sp.eye(2, format="csr"), np.zeros(2))
    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_arrays([np.eye(2), np.eye(3)], np.zeros(2))
    assert info.value.kind == "shape"


def test_model_errors_carry_ids_and_the_engine_message():
    P = np.array([[[0.5, 0.4], [0.0, 1.0]]])
    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_arrays(P, np.zeros((2, 1)))
    e = info.value
    assert isinstance(e, ValueError)
    assert str(e) == "state s0, action a0: probabilities sum to 0.9 (must be 1 within 1e-9)"
    assert (e.kind, e.state, e.action, e.value) == ("probability_sum", 0, 0, pytest.approx(0.9))

    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_edges([0, 0], [0, 0], [0, 1], [0.5, 1.5], [0.0, 0.0])
    e = info.value
    assert e.kind == "probability_out_of_range"
    assert (e.state, e.action, e.next_state, e.row) == (0, 0, 1, 1)
    assert "probability 1.5 of next state s1 is outside [0, 1]" in str(e)

    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_edges([0], [0], [1], [1.0], [0.0], n_states=2)
    assert info.value.kind == "no_actions" and info.value.state == 1
    assert str(info.value) == "state s1: has no actions and is not marked terminal"

    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_edges([0], [0], [5], [1.0], [0.0], n_states=2)
    assert info.value.kind == "state_out_of_range" and info.value.next_state == 5

    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_edges([0], [0], [0], [1.0], [np.nan])
    assert info.value.kind == "non_finite" and info.value.field == "reward"

    with pytest.raises(decide.ModelError) as info:
        decide.Model.from_edges([0, -1], [0, 0], [0, 0], [1.0, 1.0], [0.0, 0.0])
    assert info.value.state == -1 and info.value.row == 1

    with pytest.raises(TypeError):
        decide.Model.from_edges([0.0], [0], [0], [1.0], [0.0])

    model = decide.Model.from_edges([0], [0], [0], [1.0], [1.0])
    with pytest.raises(decide.ModelError) as info:
        model.solve(discount=1.0)
    assert info.value.kind == "invalid_discount" and "outside [0, 1)" in str(info.value)
    with pytest.raises(ValueError, match="no discount"):
        model.solve()
    with pytest.raises(ValueError, match="unknown algorithm"):
        model.solve("simplex", discount=0.5)


def test_from_edges_merges_duplicates_and_terminals():
    # Two rows of the same key with different rewards merge by probability weight.
    model = decide.Model.from_edges(
        state=[0, 0, 0],
        action=[0, 0, 0],
        next_state=[1, 1, 0],
        probability=[0.25, 0.25, 0.5],
        reward=[0.0, 1.0, 2.0],
        terminal=[1],
        terminal_values=[10.0],
        discount=0.5,
    )
    assert model.summary["merged_duplicates"] == 1
    assert model.summary["mixed_reward_keys"] == 1
    assert model.terminal_states().tolist() == [1]
    s, a, n, p, r = model.edges()
    assert n.tolist() == [0, 1] and p.tolist() == [0.5, 0.5] and r.tolist() == [2.0, 0.5]
    solution = model.solve()
    assert solution.policy.tolist() == [0, -1]
    assert solution.values[1] == 10.0
    # V0 = 1.25 + 0.5 (0.5 V0 + 0.5 * 10)  =>  0.75 V0 = 3.75
    assert solution.values[0] == pytest.approx(5.0, abs=1e-9)


def test_read_every_format_and_write_round_trip(tmp_path, data_dir):
    csv = decide.Model.read(data_dir / "frozenlake4x4_slippery.transitions.csv")
    assert csv.n_states == 17 and csv.discount == 0.99 and csv.sense == "maximize"
    assert csv.summary["merged_duplicates"] == 6
    out = tmp_path / "fl.json"
    csv.write(out)
    back = decide.Model.read(out)
    for x, y in zip(csv.edges(), back.edges()):
        assert np.array_equal(x, y)
    assert back.discount == 0.99
    assert back.solve().values[0] == pytest.approx(0.5420259320004736, abs=1e-12)
    cassandra = decide.Model.read(data_dir.parent / "cassandra" / "forest.MDP")
    assert cassandra.n_states >= 2
    with pytest.raises(ValueError, match=r"\.json"):
        csv.write(tmp_path / "model.csv")


def test_read_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        decide.Model.read(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("state,action,next_state,probability,reward\n0,0,0,1.0,0\n0,1,0,0.5,0\n")
    with pytest.raises(decide.ReadError) as info:
        decide.Model.read(bad)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.line == 3 and e.kind == "probability_sum" and (e.state, e.action) == (0, 1)
    assert str(e).startswith(f"{bad}:3: state s0, action a1: probabilities sum to 0.5")
    syntax = tmp_path / "syntax.csv"
    syntax.write_text("state,action,next_state,probability,reward\n0,x,0,1.0,0\n")
    with pytest.raises(decide.ReadError) as info:
        decide.Model.read(syntax)
    assert info.value.line == 2 and info.value.kind == "syntax"
    with pytest.raises(decide.ReadError, match="unknown model format"):
        decide.Model.read(tmp_path / "model.txt")


def test_sense_and_objective_overrides():
    P = np.array([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]])
    R = np.array([[1.0, 2.0], [3.0, 0.5]])
    model = decide.Model.from_arrays(P, R, discount=0.5, sense="minimize")
    assert model.sense == "minimize"
    low = model.solve()
    high = model.solve(sense="maximize")
    assert np.all(low.values < high.values)
    assert model.with_objective(discount=0.1).discount == 0.1
    assert "states=2" in repr(model)
