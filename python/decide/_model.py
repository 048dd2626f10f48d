"""``decide.Model``: a validated finite MDP, built from numpy arrays, scipy.sparse matrices,
edge lists, gymnasium environments or files, and solved by the Rust engine."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from . import _decide
from ._decide import Iteration, Solution
from ._errors import ModelError

__all__ = ["Model"]

PathLike = Union[str, "os.PathLike[str]"]


def _is_sparse(x: Any) -> bool:
    """Whether ``x`` is a scipy.sparse matrix or array (without importing scipy)."""
    module = type(x).__module__ or ""
    return module.startswith("scipy.sparse") and hasattr(x, "tocoo")


def _shape_error(message: str) -> ModelError:
    return ModelError(message, kind="shape")


def _id_array(name: str, values: Any) -> np.ndarray:
    """A contiguous uint64 array of ids, rejecting negative and non-integer input."""
    array = np.asarray(values)
    if array.ndim != 1:
        raise _shape_error(f"{name} must be a 1-d array, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if array.dtype == object:
        array = np.asarray(values, dtype=np.int64)
    if not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of integer ids, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.signedinteger) and array.min() < 0:
        i = int(np.argmax(array < 0))
        role = {"next_state": "next_state", "action": "action"}.get(name, "state")
        raise ModelError(
            f"{name.replace('_', ' ')} {int(array[i])} is out of range (ids are non-negative)",
            kind="action_out_of_range" if name == "action" else "state_out_of_range",
            row=i,
            **{role: int(array[i])},
        )
    return np.ascontiguousarray(array, dtype=np.uint64)


def _float_array(name: str, values: Any) -> np.ndarray:
    array = np.ascontiguousarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise _shape_error(f"{name} must be a 1-d array, got shape {array.shape}")
    return array


def _transition_matrices(P: Any) -> Tuple[int, list]:
    """``(S, [(rows, cols, probabilities) per action])`` from an (A, S, S) array or a sequence
    of A (S, S) arrays / scipy.sparse matrices. Zero entries (explicit or not) are dropped: an
    all-zero row means the action is not available in that state."""
    if _is_sparse(P):
        raise _shape_error(
            "P must hold one (S, S) matrix per action: an (A, S, S) array or a list of A "
            "matrices, not a single sparse matrix"
        )
    if isinstance(P, np.ndarray) and P.dtype != object:
        if P.ndim != 3 or P.shape[1] != P.shape[2]:
            raise _shape_error(f"P must have shape (A, S, S), got {P.shape}")
        matrices: Sequence[Any] = [P[a] for a in range(P.shape[0])]
    else:
        try:
            matrices = list(P)
        except TypeError:
            raise TypeError(
                "P must be an (A, S, S) array or a sequence of A (S, S) arrays or "
                f"scipy.sparse matrices, got {type(P).__name__}"
            ) from None
    if not matrices:
        raise _shape_error("P holds no action (it must have one (S, S) matrix per action)")
    n_states = None
    per_action = []
    for a, m in enumerate(matrices):
        if _is_sparse(m):
            coo = m.tocoo()
            shape = coo.shape
            rows = np.asarray(coo.row)
            cols = np.asarray(coo.col)
            vals = np.asarray(coo.data, dtype=np.float64)
        else:
            dense = np.asarray(m, dtype=np.float64)
            shape = dense.shape
            if dense.ndim != 2:
                raise _shape_error(f"P[{a}] must be an (S, S) matrix, got shape {shape}")
            rows, cols = np.nonzero(dense)
            vals = dense[rows, cols]
        if len(shape) != 2 or shape[0] != shape[1]:
            raise _shape_error(f"P[{a}] must be a square (S, S) matrix, got shape {shape}")
        if n_states is None:
            n_states = int(shape[0])
        elif shape[0] != n_states:
            raise _shape_error(
                f"P[{a}] has shape {shape} but P[0] has ({n_states}, {n_states})"
            )
        keep = vals != 0
        if not keep.all():
            rows, cols, vals = rows[keep], cols[keep], vals[keep]
        per_action.append((rows, cols, vals))
    assert n_states is not None
    return n_states, per_action


def _rewards(R: Any, n_states: int, per_action: list) -> list:
    """The reward of every outcome, per action, from R shaped (S,), (S, A), (A, S, S) or a
    sequence of A (S, S) arrays / scipy.sparse matrices."""
    n_actions = len(per_action)
    if _is_sparse(R):
        R = R.toarray()
    if isinstance(R, (list, tuple)) or (isinstance(R, np.ndarray) and R.dtype == object):
        if len(R) != n_actions:
            raise _shape_error(
                f"R is a sequence of {len(R)} matrices but P has {n_actions} actions"
            )
        out = []
        for a, ((rows, cols, _), Ra) in enumerate(zip(per_action, R)):
            if _is_sparse(Ra):
                if Ra.shape != (n_states, n_states):
                    raise _shape_error(
                        f"R[{a}] must have shape ({n_states}, {n_states}), got {Ra.shape}"
                    )
                Ra = Ra.tocsr()
                out.append(np.asarray(Ra[rows, cols], dtype=np.float64).ravel())
            else:
                dense = np.asarray(Ra, dtype=np.float64)
                if dense.shape != (n_states, n_states):
                    raise _shape_error(
                        f"R[{a}] must have shape ({n_states}, {n_states}), got {dense.shape}"
                    )
                out.append(dense[rows, cols])
        return out
    dense = np.asarray(R, dtype=np.float64)
    if dense.shape == (n_states,):
        return [dense[rows] for rows, _, _ in per_action]
    if dense.shape == (n_states, n_actions):
        return [dense[rows, a] for a, (rows, _, _) in enumerate(per_action)]
    if dense.shape == (n_actions, n_states, n_states):
        return [dense[a][rows, cols] for a, (rows, cols, _) in enumerate(per_action)]
    raise _shape_error(
        f"R must have shape ({n_states},), ({n_states}, {n_actions}) or "
        f"({n_actions}, {n_states}, {n_states}), or be a list of {n_actions} (S, S) matrices; "
        f"got {dense.shape}"
    )


class Model:
    """A finite Markov decision process, validated and compiled (compressed sparse rows).

    States are ``0..n_states-1`` and actions ``0..n_actions-1``; an action is available in a
    state exactly when the model lists an outcome for the pair. Probabilities of each
    (state, action) must sum to 1 within ``probability_tolerance`` and are used as given
    (never renormalised); repeated (state, action, next_state) outcomes are merged
    (probabilities add, rewards are probability-weighted).

    Build one with :meth:`from_arrays`, :meth:`from_edges`, :meth:`from_gymnasium` or
    :meth:`read`; solve it with :meth:`solve`.
    """

    __slots__ = ("_native", "absorbing_state")

    def __init__(self, native: "_decide.NativeModel", absorbing_state: Optional[int] = None):
        """Wraps a native model; use the ``from_*`` constructors or :meth:`read` instead."""
        if not isinstance(native, _decide.NativeModel):
            raise TypeError(
                "use Model.from_arrays, Model.from_edges, Model.from_gymnasium or Model.read"
            )
        self._native = native
        #: The absorbing state added by :meth:`from_gymnasium` (its index), else None.
        self.absorbing_state = absorbing_state

    # ----------------------------------------------------------------- constructors

    @classmethod
    def from_edges(
        cls,
        state: Any,
        action: Any,
        next_state: Any,
        probability: Any,
        reward: Any,
        *,
        n_states: Optional[int] = None,
        n_actions: Optional[int] = None,
        terminal: Optional[Any] = None,
        terminal_values: Optional[Any] = None,
        discount: Optional[float] = None,
        sense: Optional[str] = None,
        probability_tolerance: float = 1e-9,
    ) -> "Model":
        """A model from parallel 1-d arrays, one entry per outcome row.

        Args:
            state, action, next_state: integer ids (any integer dtype, non-negative).
            probability, reward: floats; the reward is collected on that transition.
            n_states, n_actions: the counts; default one more than the largest id seen.
            terminal: states that have no actions and a fixed value (0 unless
                ``terminal_values`` gives one, in the same order).
            discount: the discount factor stored with the model (``solve`` may override).
            sense: ``"maximize"`` (rewards, the default) or ``"minimize"`` (costs).
            probability_tolerance: allowed ``|sum p - 1|`` per (state, action).

        Raises:
            ModelError: the rows break the model semantics; ``row`` names the first row of
                the offending (state, action).
        """
        s = _id_array("state", state)
        a = _id_array("action", action)
        n = _id_array("next_state", next_state)
        p = _float_array("probability", probability)
        r = _float_array("reward", reward)
        t = None if terminal is None else _id_array("terminal", terminal)
        tv = None if terminal_values is None else _float_array("terminal_values", terminal_values)
        native = _decide.from_edges(
            s, a, n, p, r,
            n_states=n_states,
            n_actions=n_actions,
            terminal=t,
            terminal_values=tv,
            discount=discount,
            sense=sense,
            probability_tolerance=probability_tolerance,
        )
        return cls(native)

    @classmethod
    def from_arrays(
        cls,
        P: Any,
        R: Any,
        *,
        discount: Optional[float] = None,
        sense: str = "maximize",
        probability_tolerance: float = 1e-9,
    ) -> "Model":
        """A model from pymdptoolbox-style arrays.

        Args:
            P: transition probabilities ``P[a][s, s']``: an (A, S, S) numpy array, or a list
                (or tuple) of A (S, S) numpy arrays or scipy.sparse matrices/arrays in any
                format (CSR, CSC, COO, DOK, LIL, ...). Zero entries are not outcomes; an
                all-zero row means the action is unavailable in that state.
            R: rewards, as ``(S,)`` (per state), ``(S, A)`` (per state and action),
                ``(A, S, S)`` (per transition) or a list of A (S, S) arrays / sparse
                matrices (per transition; only entries where P is nonzero matter).
            discount: the discount factor stored with the model.
            sense: ``"maximize"`` (default) or ``"minimize"``.
            probability_tolerance: allowed ``|sum p - 1|`` per (state, action).
        """
        n_states, per_action = _transition_matrices(P)
        rewards = _rewards(R, n_states, per_action)
        n_actions = len(per_action)
        # Rows go straight to their place in (state, action) order, which the Rust builder
        # merges in one pass: the outcomes of (s, a) start after those of every (s', a') with
        # (s', a') < (s, a), in the order the matrix lists them.
        row_counts = np.zeros((n_states, n_actions), dtype=np.int64)
        for a, (rows, _, _) in enumerate(per_action):
            row_counts[:, a] = np.bincount(rows, minlength=n_states)
        starts = np.zeros(n_states * n_actions + 1, dtype=np.int64)
        np.cumsum(row_counts.ravel(), out=starts[1:])
        total = int(starts[-1])
        state = np.empty(total, dtype=np.uint64)
        act = np.empty(total, dtype=np.uint64)
        nxt = np.empty(total, dtype=np.uint64)
        prob = np.empty(total, dtype=np.float64)
        rew = np.empty(total, dtype=np.float64)
        for a, ((rows, cols, vals), r) in enumerate(zip(per_action, rewards)):
            if rows.size == 0:
                continue
            if np.any(rows[1:] < rows[:-1]):
                order = np.argsort(rows, kind="stable")
                rows, cols, vals, r = rows[order], cols[order], vals[order], r[order]
            first_of_row = np.zeros(n_states + 1, dtype=np.int64)
            np.cumsum(row_counts[:, a], out=first_of_row[1:])
            dest = starts[rows * n_actions + a] + (np.arange(rows.size) - first_of_row[rows])
            state[dest] = rows
            act[dest] = a
            nxt[dest] = cols
            prob[dest] = vals
            rew[dest] = r
        native = _decide.from_edges(
            state, act, nxt, prob, rew,
            n_states=n_states,
            n_actions=n_actions,
            discount=discount,
            sense=sense,
            probability_tolerance=probability_tolerance,
        )
        return cls(native)

    @classmethod
    def from_gymnasium(
        cls,
        env: Any,
        *,
        discount: Optional[float] = None,
        sense: str = "maximize",
    ) -> "Model":
        """The MDP of a gymnasium environment that exposes its transition table
        ``env.unwrapped.P[s][a] = [(probability, next_state, reward, done), ...]``
        (FrozenLake, Taxi, CliffWalking, ...).

        Termination convention (as in decide's reference data): one absorbing state is
        appended at index ``N`` (the number of gymnasium states; also ``model.absorbing_state``);
        every outcome with ``done`` leads to it, keeping its probability and reward; it loops
        to itself under every action with reward 0, so its value is 0. Outcomes listed more
        than once (which the redirection creates) are merged. No time limit is modelled.
        """
        unwrapped = getattr(env, "unwrapped", env)
        table = getattr(unwrapped, "P", None)
        if table is None:
            raise TypeError(
                f"{type(unwrapped).__name__} does not expose a transition table "
                "(env.unwrapped.P[s][a] = [(probability, next_state, reward, done), ...])"
            )
        space = getattr(unwrapped, "observation_space", None)
        n = int(getattr(space, "n", len(table)))
        aspace = getattr(unwrapped, "action_space", None)
        n_actions = getattr(aspace, "n", None)
        absorbing = n
        state, action, nxt, prob, rew = [], [], [], [], []
        for s, actions in table.items():
            for a, outcomes in actions.items():
                for outcome in outcomes:
                    p, s2, r, done = outcome[0], outcome[1], outcome[2], outcome[3]
                    state.append(s)
                    action.append(a)
                    nxt.append(absorbing if done else s2)
                    prob.append(p)
                    rew.append(r)
        if n_actions is None:
            n_actions = max(action) + 1 if action else 0
        n_actions = int(n_actions)
        for a in range(n_actions):
            state.append(absorbing)
            action.append(a)
            nxt.append(absorbing)
            prob.append(1.0)
            rew.append(0.0)
        model = cls.from_edges(
            np.asarray(state, dtype=np.int64),
            np.asarray(action, dtype=np.int64),
            np.asarray(nxt, dtype=np.int64),
            np.asarray(prob, dtype=np.float64),
            np.asarray(rew, dtype=np.float64),
            n_states=n + 1,
            n_actions=n_actions,
            discount=discount,
            sense=sense,
        )
        model.absorbing_state = absorbing
        return model

    @classmethod
    def read(cls, path: PathLike, *, probability_tolerance: Optional[float] = None) -> "Model":
        """Reads a model file; the format follows the extension: ``.csv`` (long form, with an
        optional ``NAME.meta.json`` sidecar), ``.json`` (decide's JSON model), ``.mdp`` /
        ``.pomdp`` (Cassandra) and whatever else the engine reads. The file's discount and
        sense are kept.

        Raises:
            ReadError: bad syntax or an invalid model, with ``path`` and ``line``.
            OSError: the file cannot be opened (``FileNotFoundError``, ...).
        """
        native = _decide.read(os.fspath(path), probability_tolerance=probability_tolerance)
        return cls(native)

    def write(self, path: PathLike) -> None:
        """Writes the model as a decide JSON document (atomically: never half a file).
        ``Model.read`` and ``decide solve`` read it back."""
        self._native.write(os.fspath(path))

    # ----------------------------------------------------------------- solving

    def solve(
        self,
        algorithm: str = "auto",
        *,
        criterion: str = "discounted",
        discount: Optional[float] = None,
        horizon: Optional[int] = None,
        final_values: Optional[Any] = None,
        sense: Optional[str] = None,
        tolerance: float = 1e-6,
        max_iterations: Optional[int] = None,
        time_limit: Optional[float] = None,
        threads: int = 0,
        progress: Optional[Callable[[Iteration], Optional[bool]]] = None,
    ) -> Solution:
        """Solves the model and certifies the answer.

        Args:
            algorithm: ``auto`` (policy iteration up to 5000 states, modified policy iteration
                beyond), ``vi`` (value iteration), ``gs`` (Gauss-Seidel), ``pi`` (policy
                iteration, exact evaluation), ``mpi`` (modified policy iteration).
            criterion: ``discounted`` (default), ``total`` (expected total reward until a
                terminal state, discount 1), ``finite`` (``horizon`` decisions, by backward
                induction) or ``average`` (long-run reward per step, unichain models).
            discount: overrides the model's discount (``discounted``, ``finite``).
            horizon: the number of decisions, for ``criterion="finite"``.
            final_values: values after the last decision (``finite`` only; default the
                terminal values, 0 elsewhere).
            sense: overrides the model's sense (``maximize`` / ``minimize``).
            tolerance: stop when the certified policy gap is at most this (absolute).
            max_iterations, time_limit: limits you set (the result is still certified).
            threads: worker threads (0: all cores).
            progress: called with an :class:`Iteration` after every iteration; return
                ``False`` to stop (status ``stopped_by_observer``); an exception it raises
                stops the run and is re-raised.

        The GIL is released while the engine works. Ctrl-C (KeyboardInterrupt) stops the run
        after its current iteration and returns the best result so far with its certificate
        and ``status == "interrupted"`` (``converged`` is False).

        Returns:
            A :class:`Solution` with numpy ``values``, ``policy`` (-1 for terminal states),
            ``lower``, ``upper`` and ``report``.
        """
        fv = None if final_values is None else _float_array("final_values", final_values)
        return _decide.solve(
            self._native,
            algorithm=algorithm,
            criterion=criterion,
            discount=None if discount is None else float(discount),
            horizon=horizon,
            final_values=fv,
            sense=sense,
            tolerance=float(tolerance),
            max_iterations=max_iterations,
            time_limit=time_limit,
            threads=threads,
            progress=progress,
        )

    # ----------------------------------------------------------------- inspection

    @property
    def n_states(self) -> int:
        """Number of states (including an absorbing state added by ``from_gymnasium``)."""
        return self._native.n_states

    @property
    def n_actions(self) -> int:
        """Number of action ids; a state may have only some of them."""
        return self._native.n_actions

    @property
    def n_pairs(self) -> int:
        """Number of available (state, action) pairs."""
        return self._native.n_pairs

    @property
    def n_transitions(self) -> int:
        """Number of stored outcomes, after merging duplicates."""
        return self._native.n_transitions

    @property
    def discount(self) -> Optional[float]:
        """The discount stored with the model, or None."""
        return self._native.discount

    @property
    def sense(self) -> Optional[str]:
        """``"maximize"``, ``"minimize"`` or None (maximize)."""
        return self._native.sense

    @property
    def summary(self) -> dict:
        """What building did: ``rows``, ``merged_duplicates``, ``duplicate_keys``,
        ``mixed_reward_keys``, ``zero_probability_outcomes``,
        ``max_probability_sum_deviation``."""
        return self._native.summary

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the model's arrays."""
        return self._native.memory_bytes

    def edges(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The merged outcomes as ``(state, action, next_state, probability, reward)`` arrays,
        ordered by state, action and next state."""
        return self._native.edges()

    def expected_rewards(self) -> np.ndarray:
        """``r(s, a) = sum_s' p(s'|s,a) r(s,a,s')`` as an (S, A) array, NaN where the action
        is not available."""
        return self._native.expected_rewards().reshape(self.n_states, self.n_actions)

    def terminal_states(self) -> np.ndarray:
        """The states marked terminal (no actions, fixed value)."""
        return self._native.terminal_states()

    def with_objective(
        self, *, discount: Optional[float] = None, sense: Optional[str] = None
    ) -> "Model":
        """A copy with another stored discount and/or sense."""
        return Model(
            self._native.with_objective(discount=discount, sense=sense), self.absorbing_state
        )

    def __repr__(self) -> str:
        return (
            f"Model(states={self.n_states}, actions={self.n_actions}, "
            f"transitions={self.n_transitions}, discount={self.discount!r}, "
            f"sense={(self.sense or 'maximize')!r})"
        )
