"""A pymdptoolbox-style script at 10^5 states through the compat layer, in a subprocess so
that its peak memory is its own. The bounds are generous (CI machines are small and shared);
python/benchmarks/compat_random.py prints the actual numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "compat_random.py"


def test_value_iteration_at_1e5_states_is_fast_and_lean():
    out = subprocess.run(
        [sys.executable, str(BENCH), "--states", "100000", "--actions", "4", "--outcomes", "5",
         "--classes", "ValueIteration,PolicyIterationModified", "--json"],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    result = json.loads(out)
    for name, run in result["runs"].items():
        assert run["policy_gap"] < 1e-9, (name, run)
        assert run["total_seconds"] < 30, (name, run)
    assert result["runs"]["PolicyIterationModified"]["max_abs_diff_from_first"] < 1e-9
    assert result["peak_rss_mb"] < 1024, result
