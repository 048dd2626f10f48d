"""Type stubs of the native module ``decide._decide`` (built from python/decide-py)."""

from typing import Callable, Optional, Tuple, final

import numpy as np
import numpy.typing as npt

__version__: str

@final
class NativeModel:
    """A validated model; ``decide.Model`` wraps one."""

    @property
    def n_states(self) -> int: ...
    @property
    def n_actions(self) -> int: ...
    @property
    def n_pairs(self) -> int: ...
    @property
    def n_transitions(self) -> int: ...
    @property
    def discount(self) -> Optional[float]: ...
    @property
    def sense(self) -> Optional[str]: ...
    @property
    def format(self) -> Optional[str]: ...
    @property
    def memory_bytes(self) -> int: ...
    @property
    def summary(self) -> dict: ...
    def terminal_states(self) -> npt.NDArray[np.uint64]: ...
    def terminal_values(self) -> npt.NDArray[np.float64]: ...
    def edges(
        self,
    ) -> Tuple[
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.uint64],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
    ]: ...
    def expected_rewards(self) -> npt.NDArray[np.float64]: ...
    def with_objective(
        self, *, discount: Optional[float] = None, sense: Optional[str] = None
    ) -> "NativeModel": ...
    def write(self, path: str) -> None: ...

@final
class Report:
    """How a run went and what its certificate proves."""

    algorithm: str
    status: str
    converged: bool
    iterations: int
    sweeps: int
    seconds: float
    residual: float
    policy_gap: float
    value_error: float
    rounding: float
    tolerance: float
    criterion: str
    notes: list[str]
    def to_dict(self) -> dict: ...

@final
class Gain:
    """Average reward per step with certified bounds on the optimal gain."""

    value: float
    lower: float
    upper: float
    def __float__(self) -> float: ...

@final
class Solution:
    """Optimal values, a policy and certified bounds, with the report of the run."""

    values: npt.NDArray[np.float64]
    policy: npt.NDArray[np.int64]
    lower: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    report: Report
    gain: Optional[Gain]
    stage_values: Optional[npt.NDArray[np.float64]]
    stage_policy: Optional[npt.NDArray[np.int64]]
    @property
    def status(self) -> str: ...
    @property
    def converged(self) -> bool: ...

@final
class Iteration:
    """One iteration, as a ``progress`` callable sees it."""

    index: int
    max_change: float
    policy_gap: Optional[float]
    policy_changes: Optional[int]
    seconds: float

def from_edges(
    state: npt.NDArray[np.uint64],
    action: npt.NDArray[np.uint64],
    next_state: npt.NDArray[np.uint64],
    probability: npt.NDArray[np.float64],
    reward: npt.NDArray[np.float64],
    *,
    n_states: Optional[int] = None,
    n_actions: Optional[int] = None,
    terminal: Optional[npt.NDArray[np.uint64]] = None,
    terminal_values: Optional[npt.NDArray[np.float64]] = None,
    discount: Optional[float] = None,
    sense: Optional[str] = None,
    probability_tolerance: float = 1e-9,
) -> NativeModel: ...
def read(path: str, *, probability_tolerance: Optional[float] = None) -> NativeModel: ...
def solve(
    model: NativeModel,
    *,
    algorithm: str = "auto",
    criterion: str = "discounted",
    discount: Optional[float] = None,
    horizon: Optional[int] = None,
    final_values: Optional[npt.NDArray[np.float64]] = None,
    sense: Optional[str] = None,
    tolerance: float = 1e-6,
    max_iterations: Optional[int] = None,
    time_limit: Optional[float] = None,
    threads: int = 0,
    progress: Optional[Callable[[Iteration], Optional[bool]]] = None,
) -> Solution: ...
