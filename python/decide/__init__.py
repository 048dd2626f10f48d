"""decide: certified optimal policies for Markov decision processes.

>>> import numpy as np, decide
>>> P = np.array([[[0.5, 0.5], [0.8, 0.2]], [[0.0, 1.0], [0.1, 0.9]]])  # P[a, s, s']
>>> R = np.array([[5.0, 10.0], [-1.0, 2.0]])                            # R[s, a]
>>> solution = decide.Model.from_arrays(P, R, discount=0.99).solve()
>>> solution.policy.tolist(), round(float(solution.values[0]), 4)
([1, 0], 392.2991)

A model comes from numpy / scipy.sparse arrays (:meth:`Model.from_arrays`), edge arrays
(:meth:`Model.from_edges`), a gymnasium environment (:meth:`Model.from_gymnasium`) or a file
(:meth:`Model.read`). :meth:`Model.solve` returns a :class:`Solution`: numpy ``values``,
``policy``, certified ``lower``/``upper`` bounds on the optimal values, and a :class:`Report`.
:mod:`decide.compat.mdptoolbox` runs pymdptoolbox scripts unchanged.
"""

from ._decide import Gain, Iteration, Report, Solution, __version__
from ._errors import ModelError, ReadError, SolveError
from ._model import Model

__all__ = [
    "Gain",
    "Iteration",
    "Model",
    "ModelError",
    "ReadError",
    "Report",
    "Solution",
    "SolveError",
    "__version__",
]
