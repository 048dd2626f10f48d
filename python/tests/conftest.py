"""Shared fixtures: the repository's reference data (testdata/mdp), never ../shared."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "testdata" / "mdp"


def load_case(name: str):
    """``(rows, meta, reference)`` of a reference case: rows as a structured numpy array with
    fields state, action, next_state, probability, reward (file order)."""
    rows = np.genfromtxt(
        DATA / f"{name}.transitions.csv",
        delimiter=",",
        names=True,
        dtype=[("state", "i8"), ("action", "i8"), ("next_state", "i8"),
               ("probability", "f8"), ("reward", "f8")],
    )
    meta = json.loads((DATA / f"{name}.meta.json").read_text())
    reference = json.loads((DATA / f"{name}.reference.json").read_text())
    return rows, meta, reference


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


def assert_policy_optimal(model, reference_v, policy, discount, tol=1e-9):
    """A policy is correct when each state's chosen action has Q within ``tol`` of the best
    (compare by value, not by action index: the reference data has ties)."""
    s, a, n, p, r = model.edges()
    v = np.asarray(reference_v)
    q = np.full((model.n_states, model.n_actions), -np.inf)
    contrib = p * (r + discount * v[n.astype(np.int64)])
    sums = np.zeros(model.n_states * model.n_actions)
    np.add.at(sums, (s * model.n_actions + a).astype(np.int64), contrib)
    avail = np.zeros(model.n_states * model.n_actions, dtype=bool)
    avail[(s * model.n_actions + a).astype(np.int64)] = True
    q.ravel()[avail] = sums[avail]
    best = q.max(axis=1)
    for state, action in enumerate(policy):
        if action < 0:
            continue
        assert q[state, action] >= best[state] - tol, (state, action, q[state], best[state])
