"""Check a hand-written gradient against finite differences.

    >>> import numpy as np
    >>> from helpers.gradcheck import numerical_gradient, relative_error
    >>> x = np.array([1.0, -2.0, 0.5])
    >>> f = lambda: float(np.sum(x ** 3))       # reads x, which is perturbed in place
    >>> numeric = numerical_gradient(f, x)      # centred differences, entry by entry
    >>> relative_error(numeric, 3 * x ** 2) < 1e-8
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Centred finite differences of ``f()`` with respect to every entry of ``x``.

    ``f`` takes no arguments and reads ``x``, which is nudged in place by ``±eps`` one entry at
    a time and always restored. Use float64 arrays: in float32, rounding swamps the difference.
    """
    if x.dtype != np.float64:
        raise TypeError(f"use a float64 array for a gradient check, got {x.dtype}")
    grad = np.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        out[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|a| + |b|)``: scale-free, 0 for identical arrays."""
    scale = np.max(np.abs(a) + np.abs(b))
    return 0.0 if scale == 0 else float(np.max(np.abs(a - b)) / scale)
