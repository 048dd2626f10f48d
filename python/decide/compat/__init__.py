"""Drop-in layers for code written against other MDP packages.

* :mod:`decide.compat.mdptoolbox` -- pymdptoolbox (``mdp.ValueIteration(P, R, discount)``
  and friends, ``example.forest/small/rand``), returning exact optimal values.
"""
