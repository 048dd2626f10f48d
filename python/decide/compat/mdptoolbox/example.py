"""pymdptoolbox's ``mdptoolbox.example``: ``forest``, ``small`` and ``rand``, with the same
signatures, array shapes and conventions (``P`` is (A, S, S) or a list of A sparse (S, S)
matrices; ``R`` is (S, A), or (A, S, S) / a list of sparse matrices for ``rand``)."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

__all__ = ["forest", "rand", "small"]


def forest(
    S: int = 3, r1: float = 4, r2: float = 2, p: float = 0.1, is_sparse: bool = False
) -> Tuple[Any, np.ndarray]:
    """The forest-management example: each year, wait (action 0) or cut (action 1); a fire
    (probability ``p``) sends the forest back to its youngest state.

    Returns ``(P, R)``: ``P`` of shape (2, S, S) (a list of two CSR matrices when
    ``is_sparse``), ``R`` of shape (S, 2): reward ``r1`` for waiting in the oldest state,
    ``r2`` for cutting there, 1 for cutting elsewhere except the youngest state (0).
    """
    if S <= 1:
        raise ValueError("The number of states S must be greater than 1.")
    if r1 <= 0:
        raise ValueError("The reward value r1 must be greater than 0.")
    if r2 <= 0:
        raise ValueError("The reward value r2 must be greater than 0.")
    if not 0 <= p <= 1:
        raise ValueError("The probability p must be in [0; 1].")
    if is_sparse:
        import scipy.sparse as sp

        rows = list(range(S)) * 2
        cols = [0] * S + list(range(1, S)) + [S - 1]
        vals = [p] * S + [1 - p] * S
        wait = sp.coo_matrix((vals, (rows, cols)), shape=(S, S)).tocsr()
        cut = sp.coo_matrix(([1.0] * S, (list(range(S)), [0] * S)), shape=(S, S)).tocsr()
        P: Any = [wait, cut]
    else:
        P = np.zeros((2, S, S))
        P[0, :, :] = (1 - p) * np.diag(np.ones(S - 1), 1)
        P[0, :, 0] = p
        P[0, S - 1, S - 1] = 1 - p
        P[1, :, 0] = 1
    R = np.zeros((S, 2))
    R[S - 1, 0] = r1
    R[:, 1] = np.ones(S)
    R[0, 1] = 0
    R[S - 1, 1] = r2
    return P, R


def small() -> Tuple[np.ndarray, np.ndarray]:
    """A two-state, two-action example: ``P`` of shape (2, 2, 2), ``R`` of shape (2, 2).
    At discount 0.99 its optimal values are (392.299107, 386.160714), policy (1, 0)."""
    P = np.array([[[0.5, 0.5], [0.8, 0.2]], [[0.0, 1.0], [0.1, 0.9]]])
    R = np.array([[5.0, 10.0], [-1.0, 2.0]])
    return P, R


def rand(
    S: int, A: int, is_sparse: bool = False, mask: Optional[Any] = None
) -> Tuple[Any, Any]:
    """A random MDP, drawn as pymdptoolbox draws it (from numpy's global random state, so
    ``np.random.seed`` makes it reproducible; the stream differs from pymdptoolbox's).

    Each row of ``P[a]`` has random successors (a random density per row when dense, one
    third of the states when sparse, or the nonzeros of ``mask``, shape (S, S) or
    (A, S, S)), at least one, with random probabilities; rewards are uniform in [-1, 1) on
    the same entries. Returns ``(P, R)``, both (A, S, S) arrays, or lists of A CSR matrices
    when ``is_sparse``. Note that the dense form needs ``A * S * S`` floats.
    """
    if S <= 1:
        raise ValueError("The number of states S must be greater than 1.")
    if A <= 1:
        raise ValueError("The number of actions A must be greater than 1.")
    if mask is not None:
        mask = np.asarray(mask)
        if mask.shape not in ((S, S), (A, S, S)):
            raise ValueError("'mask' must have dimensions S×S or A×S×S.")

    def pattern(a: int) -> np.ndarray:
        if mask is not None:
            m = (mask[a] if mask.ndim == 3 else mask) != 0
        elif is_sparse:
            m = np.random.random_sample((S, S)) > 2.0 / 3.0
        else:
            m = np.random.random_sample((S, S)) > np.random.random_sample((S, 1))
        m = np.array(m, dtype=bool)
        empty = ~m.any(axis=1)
        if empty.any():
            m[np.nonzero(empty)[0], np.random.randint(0, S, size=int(empty.sum()))] = True
        return m

    if is_sparse:
        import scipy.sparse as sp

        Ps, Rs = [], []
        for a in range(A):
            rows, cols = np.nonzero(pattern(a))
            w = np.random.random_sample(rows.size)
            sums = np.bincount(rows, weights=w, minlength=S)
            reward = 2 * np.random.random_sample(rows.size) - 1
            Ps.append(sp.csr_matrix((w / sums[rows], (rows, cols)), shape=(S, S)))
            Rs.append(sp.csr_matrix((reward, (rows, cols)), shape=(S, S)))
        return Ps, Rs
    P = np.zeros((A, S, S))
    R = np.zeros((A, S, S))
    for a in range(A):
        m = pattern(a)
        P[a] = m * np.random.random_sample((S, S))
        P[a] /= P[a].sum(axis=1, keepdims=True)
        R[a] = m * (2 * np.random.random_sample((S, S)) - 1)
    return P, R
