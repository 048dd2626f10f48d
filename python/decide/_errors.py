"""Exceptions raised by decide.

The native module builds these with the same message as the Rust error and the ids it names
as attributes, so a program can react to *which* state or action is wrong without parsing
the message.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["ModelError", "ReadError", "SolveError"]


class ModelError(ValueError):
    """The model breaks decide's model semantics.

    The message is the one the Rust engine (and the ``decide`` command line) prints, e.g.
    ``state s3, action a1: probabilities sum to 0.98 (must be 1 within 1e-9)``.

    Attributes:
        kind: what is wrong, one of ``probability_sum``, ``probability_out_of_range``,
            ``non_finite``, ``no_actions``, ``state_out_of_range``, ``action_out_of_range``,
            ``too_large``, ``invalid_discount``, ``non_finite_terminal_value``, ``empty``,
            ``shape`` (arrays of the wrong shape) or ``other``.
        state: the state concerned (an int), or None.
        action: the action concerned, or None.
        next_state: the next state concerned, or None.
        value: the offending number (a probability, a sum, a discount), or None.
        field: ``"probability"`` or ``"reward"`` for ``non_finite``, else None.
        row: 0-based index of the first input row (of ``Model.from_edges`` arrays) of the
            offending (state, action), when known.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "other",
        state: Optional[int] = None,
        action: Optional[int] = None,
        next_state: Optional[int] = None,
        value: Optional[float] = None,
        field: Optional[str] = None,
        row: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.state = state
        self.action = action
        self.next_state = next_state
        self.value = value
        self.field = field
        self.row = row


class ReadError(ValueError):
    """A model file cannot be read: bad syntax, an unknown format, or an invalid model.

    The message is ``path:line: what is wrong``, as the command line prints it. A file that
    cannot be opened raises the matching ``OSError`` (``FileNotFoundError``, ...) instead.

    Attributes:
        path: the file.
        line: the 1-based line, or None.
        kind: ``syntax``, ``format``, or one of :class:`ModelError`'s kinds.
        column: for ``syntax``, the column or field that is wrong.
        location: for JSON documents, the element that is wrong (``transitions[12]``).
        state, action, next_state, value, field: as for :class:`ModelError`.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        line: Optional[int] = None,
        kind: str = "format",
        column: Optional[str] = None,
        location: Optional[str] = None,
        state: Optional[int] = None,
        action: Optional[int] = None,
        next_state: Optional[int] = None,
        value: Optional[float] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.kind = kind
        self.column = column
        self.location = location
        self.state = state
        self.action = action
        self.next_state = next_state
        self.value = value
        self.field = field


class SolveError(RuntimeError):
    """A solve produced no meaningful answer (values overflowed, no proper policy exists for
    the total-reward criterion, an algorithm that does not solve the criterion, ...)."""
