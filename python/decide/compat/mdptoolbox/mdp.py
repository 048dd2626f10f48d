"""pymdptoolbox's ``mdptoolbox.mdp`` classes, solved exactly by decide.

Every class takes pymdptoolbox's arguments (``transitions`` as an (A, S, S) array or a list of
A (S, S) arrays / scipy.sparse matrices, ``reward`` as (S,), (S, A), (A, S, S) or a list of A
(S, S) matrices, then the discount and the class's own options), builds the model in its
constructor and solves it in :meth:`MDP.run`. After ``run()``:

* ``V`` -- tuple of the optimal values (``FiniteHorizon``: an (S, N+1) array),
* ``policy`` -- tuple of optimal actions (``FiniteHorizon``: an (S, N) array),
* ``iter`` -- iterations of the method, ``time`` -- seconds spent in ``run()``,
* ``solution`` -- decide's :class:`decide.Solution` with the certificate (bounds, gap).

Unlike pymdptoolbox, the values are exact (to double-precision rounding, certified), not
epsilon-approximate; ``epsilon`` and ``max_iter`` are kept as attributes but do not cut the
run short. With ``discount == 1`` the undiscounted total reward is solved (decide's ``total``
criterion: it needs states where every action loops with reward 0, or raises
``decide.SolveError`` naming the states from which no policy terminates).
"""

from __future__ import annotations

import time as _time
from typing import Any, Optional

import numpy as np

from ..._model import Model
from ..._decide import Solution

__all__ = [
    "MDP",
    "FiniteHorizon",
    "LP",
    "PolicyIteration",
    "PolicyIterationModified",
    "RelativeValueIteration",
    "ValueIteration",
    "ValueIterationGS",
]


class MDP:
    """The common part of the pymdptoolbox classes (``mdptoolbox.mdp.MDP``)."""

    #: decide's algorithm for this class (``vi``, ``gs``, ``pi``, ``mpi``).
    _algorithm = "auto"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: Optional[float],
        epsilon: Optional[float],
        max_iter: Optional[int],
        skip_check: bool = False,
    ) -> None:
        if discount is not None:
            discount = float(discount)
            if not 0.0 <= discount <= 1.0:
                raise ValueError("Discount rate must be in ]0; 1]")
        self.discount = discount
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.skip_check = skip_check
        self.verbose = False
        self._model = Model.from_arrays(
            transitions, reward, discount=discount if discount != 1.0 else None
        )
        self.S = self._model.n_states
        self.A = self._model.n_actions
        self.P = transitions
        self.V: Any = None
        self.policy: Any = None
        self.iter = 0
        self.time: Optional[float] = None
        self.solution: Optional[Solution] = None

    @property
    def R(self) -> tuple:
        """Expected rewards ``r(s, a)``, one (S,) array per action (as pymdptoolbox's
        ``R`` after its reward computation)."""
        r = self._model.expected_rewards()
        return tuple(r[:, a].copy() for a in range(self.A))

    def setSilent(self) -> None:
        """Do not print progress (the default)."""
        self.verbose = False

    def setVerbose(self) -> None:
        """Print one line per iteration, as pymdptoolbox does."""
        self.verbose = True

    def _progress(self):
        if not self.verbose:
            return None
        print("  Iteration\t\tV-variation")

        def show(it) -> None:
            print(f"    {it.index:>5}\t\t  {it.max_change}")

        return show

    def _solve(self, **options: Any) -> Solution:
        if self.discount == 1.0 and "criterion" not in options:
            options["criterion"] = "total"
            options.setdefault("tolerance", _undiscounted_tolerance(self._model))
        options.setdefault("tolerance", 0.0)
        return self._model.solve(self._algorithm, progress=self._progress(), **options)

    def run(self) -> None:
        """Solves the model; sets ``V``, ``policy``, ``iter``, ``time`` and ``solution``."""
        start = _time.time()
        solution = self._solve()
        self.time = _time.time() - start
        self._store(solution)

    def _store(self, solution: Solution) -> None:
        self.solution = solution
        self.V = tuple(solution.values.tolist())
        self.policy = tuple(solution.policy.tolist())
        self.iter = solution.report.iterations
        if solution.report.status == "interrupted":
            # pymdptoolbox scripts expect Ctrl-C to stop them; the best result is kept.
            raise KeyboardInterrupt

    def __repr__(self) -> str:
        return repr((self.V, self.policy))


def _undiscounted_tolerance(model: Model) -> float:
    """A certified-gap target for criteria without a precision-limit stop: 1e-10 of the
    largest expected reward (absolute 1e-10 for rewards up to 1)."""
    r = model.expected_rewards()
    scale = float(np.nanmax(np.abs(r))) if r.size else 1.0
    return 1e-10 * max(1.0, scale)


class ValueIteration(MDP):
    """Value iteration (Jacobi sweeps), run until its certificate shows the values are
    optimal to rounding. ``epsilon`` and ``max_iter`` are accepted and ignored (pymdptoolbox
    replaces ``max_iter`` by its own bound too); ``initial_value`` is accepted."""

    _algorithm = "vi"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: float,
        epsilon: float = 0.01,
        max_iter: int = 1000,
        initial_value: Any = 0,
        skip_check: bool = False,
    ) -> None:
        super().__init__(transitions, reward, discount, epsilon, max_iter, skip_check)
        self.initial_value = initial_value


class ValueIterationGS(ValueIteration):
    """Gauss-Seidel value iteration (in-place sweeps in state order)."""

    _algorithm = "gs"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: float,
        epsilon: float = 0.01,
        max_iter: int = 10,
        initial_value: Any = 0,
        skip_check: bool = False,
    ) -> None:
        super().__init__(
            transitions, reward, discount, epsilon, max_iter, initial_value, skip_check
        )


class PolicyIteration(MDP):
    """Policy iteration with exact policy evaluation (a sparse LU up to 5000 states,
    Gauss-Seidel to rounding level beyond). ``policy0`` and ``eval_type`` are accepted; the
    evaluation is always exact, and the run always starts from the greedy policy."""

    _algorithm = "pi"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: float,
        policy0: Any = None,
        max_iter: int = 1000,
        eval_type: Any = 0,
        skip_check: bool = False,
    ) -> None:
        super().__init__(transitions, reward, discount, None, max_iter, skip_check)
        self.policy0 = policy0
        self.eval_type = eval_type


class LP(MDP):
    """The primal linear program over values, solved by HiGHS (interior point with crossover)
    inside decide, then certified by one Bellman backup like every other method.
    pymdptoolbox needs cvxopt for this; decide needs nothing more (it raises
    ``decide.SolveError`` if the engine was built without its ``lp`` feature)."""

    _algorithm = "lp"

    def __init__(
        self, transitions: Any, reward: Any, discount: float, skip_check: bool = False
    ) -> None:
        super().__init__(transitions, reward, discount, None, None, skip_check)


class PolicyIterationModified(PolicyIteration):
    """Modified policy iteration (partial evaluation by a fixed number of sweeps), run until
    certified optimal to rounding."""

    _algorithm = "mpi"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: float,
        epsilon: float = 0.01,
        max_iter: int = 10,
        skip_check: bool = False,
    ) -> None:
        MDP.__init__(self, transitions, reward, discount, epsilon, max_iter, skip_check)
        self.policy0 = None
        self.eval_type = None


class RelativeValueIteration(MDP):
    """Relative value iteration for the long-run average reward (unichain models).

    After ``run()``: ``average_reward`` is the optimal gain, ``V`` the relative values (bias)
    with ``V[0] == 0`` (pymdptoolbox normalises differently, so compare ``V`` up to a
    constant), ``policy`` a gain-optimal policy. The run stops when the certified bounds on
    the gain are within 1e-10 of the largest reward; a multichain model is reported in
    ``solution.report.status`` (``multichain``)."""

    _algorithm = "vi"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        epsilon: float = 0.01,
        max_iter: int = 1000,
        skip_check: bool = False,
    ) -> None:
        super().__init__(transitions, reward, None, epsilon, max_iter, skip_check)
        self.average_reward: Optional[float] = None
        self.gain: Optional[float] = None

    def run(self) -> None:
        """Solves for the optimal gain; sets ``average_reward``, ``V``, ``policy``, ``iter``,
        ``time`` and ``solution``."""
        start = _time.time()
        solution = self._solve(
            criterion="average", tolerance=_undiscounted_tolerance(self._model)
        )
        self.time = _time.time() - start
        gain = solution.gain
        self.average_reward = None if gain is None else gain.value
        self.gain = self.average_reward
        self._store(solution)


class FiniteHorizon(MDP):
    """Backward induction over ``N`` stages, with final values ``h`` (default 0).

    After ``run()``, as in pymdptoolbox: ``V`` is an (S, N+1) array, ``V[:, n]`` the optimal
    value with ``N - n`` decisions left (``V[:, N] == h``), and ``policy`` an (S, N) array,
    ``policy[:, n]`` the decision at stage ``n``."""

    _algorithm = "auto"

    def __init__(
        self,
        transitions: Any,
        reward: Any,
        discount: float,
        N: int,
        h: Any = None,
        skip_check: bool = False,
    ) -> None:
        if N < 1:
            raise ValueError("N must be greater than 0.")
        super().__init__(transitions, reward, discount, None, None, skip_check)
        self.N = int(N)
        self.h = None if h is None else np.asarray(h, dtype=np.float64).reshape(-1)
        if self.h is not None and self.h.shape != (self.S,):
            raise ValueError(f"h must have {self.S} entries (one per state)")

    def run(self) -> None:
        """Runs backward induction; sets ``V``, ``policy``, ``iter``, ``time``, ``solution``."""
        start = _time.time()
        solution = self._model.solve(
            "auto",
            criterion="finite",
            horizon=self.N,
            discount=self.discount,
            final_values=self.h,
            progress=self._progress(),
        )
        self.time = _time.time() - start
        self.solution = solution
        final = np.zeros(self.S) if self.h is None else self.h
        self.V = np.column_stack([solution.stage_values.T, final])
        self.policy = solution.stage_policy.T.copy()
        self.iter = solution.report.iterations
        if solution.report.status == "interrupted":
            raise KeyboardInterrupt
