"""Argument checks that name the bad value and what is allowed."""

from __future__ import annotations

import numpy as np

__all__ = ["check_int"]


def check_int(name: str, value, low: int = 1, allowed: str = "") -> int:
    """Return ``int(value)`` if ``value`` is an integer (Python or NumPy, not ``bool``) ``>= low``;
    otherwise raise ``ValueError``: ``"{name} must be an integer >= {low}{allowed}, got {value!r}"``.

    ``allowed`` adds to the message what else is allowed or what the number means, e.g.
    ``" or None"``. A float such as ``2.0`` is refused: a count given as a float is usually a
    mistake upstream (``n / 2`` for ``n // 2``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}{allowed}, got {value!r}")
    return int(value)
