"""One whole-process run of a competing tool on a `.decide` model, for bench-compare.py.

    python run_tool.py TOOL MODEL.decide VALUES_OUT TOLERANCE

TOOL is `numpy` (a hand-written scipy.sparse value iteration), `mdpsolver` (its serial value
iteration), or `pymdptoolbox:ALGORITHM` (ValueIteration, PolicyIteration,
PolicyIterationModified, ...). The model is read from decide's binary format with
numpy.fromfile (the format is plain little-endian arrays, see crates/io/src/binary.rs), so
every tool starts from the same bytes; each then builds the structures it needs, which is
part of its time. The values found are written to VALUES_OUT as raw little-endian float64.
Runs in the benchmark's virtual environment (numpy, scipy, pymdptoolbox, mdpsolver).
"""

import sys

import numpy as np

HEADER = 128
MAGIC = b"DECIDE\x1a\x00"


def read_decide(path):
    """The arrays of a `.decide` model (every state with every action assumed by callers)."""
    with open(path, "rb") as f:
        header = f.read(HEADER)
    if header[:8] != MAGIC:
        raise SystemExit(f"{path}: not a .decide file")
    words = np.frombuffer(header[16:64], dtype="<u8")
    flags = int(np.frombuffer(header[12:16], dtype="<u4")[0])
    n_states, n_actions, n_pairs, n_transitions = (int(x) for x in words[:4])
    discount = float(np.frombuffer(header[64:72], dtype="<f8")[0])
    offset = HEADER

    def take(dtype, count):
        nonlocal offset
        array = np.fromfile(path, dtype=dtype, count=count, offset=offset)
        offset += (array.nbytes + 7) // 8 * 8
        return array

    state_pairs = take("<u8", n_states + 1)
    pair_action = take("<u4", n_pairs)
    pair_outcomes = take("<u8", n_pairs + 1)
    pair_reward = take("<f8", n_pairs)
    nxt = take("<u4", n_transitions)
    probability = take("<f8", n_transitions)
    if n_pairs != n_states * n_actions:
        raise SystemExit("this runner needs every action available in every state")
    del flags, state_pairs, pair_action
    return {
        "S": n_states,
        "A": n_actions,
        "discount": discount,
        "indptr": pair_outcomes.astype(np.int64),
        "indices": nxt.astype(np.int32),
        "data": probability,
        "reward": pair_reward,
    }


def sparse_p(m):
    import scipy.sparse as sp

    return sp.csr_matrix(
        (m["data"], m["indices"], m["indptr"]), shape=(m["S"] * m["A"], m["S"])
    )


def numpy_vi(m, tol):
    """Value iteration as an expert writes it in numpy/scipy: one sparse product per sweep,
    MacQueen's span stopping rule and midpoint correction (the same certificate decide uses,
    so the same tolerance means the same thing)."""
    p = sparse_p(m)
    r = m["reward"]
    s, a, g = m["S"], m["A"], m["discount"]
    c = g / (1 - g)
    v = np.zeros(s)
    while True:
        new = (r + g * (p @ v)).reshape(s, a).max(axis=1)
        d = new - v
        lo, hi = d.min(), d.max()
        v = new
        if c * (hi - lo) <= tol:
            return v + c * (lo + hi) / 2


def mdpsolver_vi(m, tol):
    import mdpsolver

    s, a = m["S"], m["A"]
    indptr = m["indptr"]
    # mdpsolver takes nested lists: [state][action][outcome].
    bounds = indptr[1:-1]
    probs = np.split(m["data"], bounds)
    cols = np.split(m["indices"], bounds)
    tran_probs = [[probs[i * a + j].tolist() for j in range(a)] for i in range(s)]
    tran_cols = [[cols[i * a + j].tolist() for j in range(a)] for i in range(s)]
    rewards = m["reward"].reshape(s, a).tolist()
    del probs, cols
    model = mdpsolver.model()
    model.mdp(
        discount=m["discount"],
        rewards=rewards,
        tranMatProbs=tran_probs,
        tranMatColumns=tran_cols,
    )
    del tran_probs, tran_cols, rewards
    model.solve(algorithm="vi", tolerance=tol, update="standard", parallel=False)
    return np.asarray(model.getValueVector(), dtype=float)


def pymdptoolbox(m, tol, algorithm):
    import mdptoolbox.mdp

    p = sparse_p(m)
    a = m["A"]
    matrices = [p[j::a].tocsr() for j in range(a)]
    rewards = m["reward"].reshape(m["S"], a)
    cls = getattr(mdptoolbox.mdp, algorithm)
    kwargs = {}
    if algorithm in ("ValueIteration", "ValueIterationGS", "PolicyIterationModified"):
        kwargs["epsilon"] = tol
    if algorithm in ("ValueIteration", "ValueIterationGS"):
        kwargs["max_iter"] = 100000
    solver = cls(matrices, rewards, m["discount"], **kwargs)
    solver.run()
    return np.asarray(solver.V, dtype=float)


def main():
    tool, model_path, out_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    m = read_decide(model_path)
    if tool == "numpy":
        v = numpy_vi(m, tol)
    elif tool == "mdpsolver":
        v = mdpsolver_vi(m, tol)
    elif tool.startswith("pymdptoolbox:"):
        v = pymdptoolbox(m, tol, tool.split(":", 1)[1])
    else:
        raise SystemExit(f"unknown tool {tool}")
    v.astype("<f8").tofile(out_path)


if __name__ == "__main__":
    main()
