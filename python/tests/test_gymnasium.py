"""Model.from_gymnasium against the repository's gymnasium-exported reference cases."""

from __future__ import annotations

import numpy as np
import pytest

import decide
from conftest import assert_policy_optimal, load_case

gym = pytest.importorskip("gymnasium")


@pytest.mark.parametrize(
    "name,map_name",
    [("frozenlake8x8_slippery", "8x8"), ("frozenlake4x4_slippery", "4x4")],
)
def test_frozenlake_reproduces_reference(name, map_name):
    rows, meta, ref = load_case(name)
    env = gym.make("FrozenLake-v1", map_name=map_name, is_slippery=True)
    model = decide.Model.from_gymnasium(env, discount=meta["discount"])
    assert model.n_states == meta["states"]
    assert model.absorbing_state == meta["absorbing_state"]
    assert model.summary["rows"] == meta["rows"]
    assert model.summary["merged_duplicates"] == meta["duplicate_rows"]
    solution = model.solve()
    v = np.asarray(ref["V"])
    assert np.max(np.abs(solution.values - v)) <= 1e-6
    assert abs(solution.values[model.absorbing_state]) <= 1e-12  # exactly 0 up to rounding
    assert np.all(solution.lower <= v + 1e-12) and np.all(v - 1e-12 <= solution.upper)
    assert_policy_optimal(model, v, solution.policy, meta["discount"])


def test_same_model_as_the_exported_file(data_dir):
    env = gym.make("FrozenLake-v1", map_name="8x8", is_slippery=True)
    from_env = decide.Model.from_gymnasium(env, discount=0.99)
    from_file = decide.Model.read(data_dir / "frozenlake8x8_slippery.transitions.csv")
    for x, y in zip(from_env.edges(), from_file.edges()):
        assert np.array_equal(x, y)
    assert from_env.summary == from_file.summary


def test_taxi_and_cliffwalking_build_and_solve():
    for env_id in ("Taxi-v4", "CliffWalking-v1"):
        try:
            env = gym.make(env_id)
        except Exception:  # older gymnasium versions name them Taxi-v3, CliffWalking-v0
            continue
        model = decide.Model.from_gymnasium(env, discount=0.9)
        n = env.unwrapped.observation_space.n
        assert model.n_states == n + 1 and model.absorbing_state == n
        solution = model.solve()
        assert solution.converged and abs(solution.values[n]) <= 1e-12


def test_an_object_with_P_is_enough_and_no_P_is_a_clear_error():
    class Env:
        # Two states; action 0 stays (reward 1), action 1 ends the episode (reward 5).
        P = {
            0: {0: [(1.0, 0, 1.0, False)], 1: [(1.0, 1, 5.0, True)]},
            1: {0: [(1.0, 1, 0.0, True)], 1: [(1.0, 1, 0.0, True)]},
        }

    model = decide.Model.from_gymnasium(Env(), discount=0.9)
    assert model.n_states == 3 and model.absorbing_state == 2
    solution = model.solve()
    assert solution.values[0] == pytest.approx(10.0, abs=1e-9)  # 1 / (1 - 0.9) = 10 > 5
    with pytest.raises(TypeError, match="transition table"):
        decide.Model.from_gymnasium(object())
