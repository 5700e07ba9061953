"""Work counted, never timed: how many lines of Python a call runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def lines_run(call: Callable[[], T]) -> tuple[int, T]:
    """The lines of Python ``call`` runs (loop iterations included), and what it returns.

    Linear work doubles the count when its input doubles; quadratic work quadruples it.
    """
    count = 0

    def trace(frame: object, event: str, arg: object) -> object:
        nonlocal count
        count += event == "line"
        return trace

    sys.settrace(trace)
    try:
        result = call()
    finally:
        sys.settrace(None)
    return count, result
