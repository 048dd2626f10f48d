"""pymdptoolbox's interface on decide's engine.

Change the import and keep the script::

    # import mdptoolbox, mdptoolbox.example
    from decide.compat import mdptoolbox       # then mdptoolbox.mdp / mdptoolbox.example
    # or: from decide.compat.mdptoolbox import mdp, example

    P, R = mdptoolbox.example.forest()
    vi = mdptoolbox.mdp.ValueIteration(P, R, 0.96)
    vi.run()
    vi.V, vi.policy, vi.iter, vi.time

**What differs from pymdptoolbox:** the values are the exact optimal values (certified to
double-precision rounding: see ``.solution.report``), not the epsilon-approximate values of
pymdptoolbox's stopping rules, and ``.policy`` is an optimal policy. ``epsilon`` and
``max_iter`` are accepted for compatibility and kept as attributes but do not truncate the
run (pymdptoolbox's value iteration also replaces ``max_iter`` by its own bound). Each
algorithm class still runs its own method (value iteration, Gauss-Seidel, policy iteration,
modified policy iteration), so ``.iter`` and ``.time`` are that method's.
"""

from . import example, mdp

__all__ = ["example", "mdp"]
